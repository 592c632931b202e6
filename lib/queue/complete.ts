// A job finished: mark it succeeded. Only the lease holder may do so (`locked_by = $2 AND status =
// 'running'`): a worker whose lease expired and whose job was taken over gets false and its result is
// dropped, so a job is recorded as done by exactly one attempt. locked_by is kept as a record of which
// worker ran it; lease_expires_at is cleared (no lease on a finished job).
import { queryRows, type Queryable } from '../db/client';

const COMPLETE_JOB_SQL = `
UPDATE jobs
SET status = 'succeeded',
    lease_expires_at = NULL,
    finished_at = now(),
    updated_at = now()
WHERE id = $1::uuid
  AND locked_by = $2
  AND status = 'running'
RETURNING 1 AS completed`;

/** Marks the job succeeded; false (and no change) when workerId does not hold it. */
export async function completeJob(db: Queryable, jobId: string, workerId: string): Promise<boolean> {
  const rows = await queryRows(db, COMPLETE_JOB_SQL, [jobId, workerId]);
  return rows.length === 1;
}
