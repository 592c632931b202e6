// Heartbeat: extend the lease of a job we are running. The runner calls it every heartbeatMs (5 s by
// default, a third of the 15 s lease, so two heartbeats can be lost before another worker takes the job
// over). `locked_by = $2 AND status = 'running'` is the ownership check: false means the job is no longer
// ours (our lease expired and another worker took it over, or it was failed/handed back) and the caller
// must stop working on it. A lease that expired but was not taken over yet is still ours and is renewed.
// Primary-key lookup; one row.
import { queryRows, type Queryable } from '../db/client';
import { checkLeaseMs } from './rows';

const RENEW_LEASE_SQL = `
UPDATE jobs
SET lease_expires_at = now() + make_interval(secs => $3::double precision / 1000),
    updated_at = now()
WHERE id = $1::uuid
  AND locked_by = $2
  AND status = 'running'
RETURNING 1 AS renewed`;

/** Extends the lease to now() + leaseMs; false when the job is no longer held by workerId. */
export async function renewLease(db: Queryable, jobId: string, workerId: string, leaseMs: number): Promise<boolean> {
  checkLeaseMs('renewLease', leaseMs);
  const rows = await queryRows(db, RENEW_LEASE_SQL, [jobId, workerId, leaseMs]);
  return rows.length === 1;
}
