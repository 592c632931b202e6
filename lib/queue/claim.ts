// Claim the next runnable job: ONE statement, safe with any number of concurrent workers.
//
// Shape taken from graphile-worker's getJobs: a CTE picks the oldest runnable row with
// `FOR UPDATE SKIP LOCKED` (a row another transaction is claiming is skipped, not waited for, so claimers
// never block each other nor get the same row), and the UPDATE in the same statement marks it running,
// counts the attempt and takes a lease. A worker that dies keeps the job only until lease_expires_at;
// the lease takeover, heartbeats and retries come with the full queue (a later issue).
// Uses the (status, run_at) index.
import { queryRows, type Queryable } from '../db/client';

export interface ClaimedJob {
  id: string;
  kind: string;
  payload: unknown;
  attempts: number;
  maxAttempts: number;
  runAt: Date;
  lockedBy: string;
  leaseExpiresAt: Date;
  dedupeKey: string | null;
  createdAt: Date;
}

export interface ClaimOptions {
  /** Identifies the claimer (host:pid:n); stored in locked_by. */
  workerId: string;
  /** Only these kinds (default: any kind). */
  kinds?: readonly string[];
  /** Lease length; the worker must finish or heartbeat before it runs out. */
  leaseMs: number;
}

const CLAIM_SQL = `
WITH next_job AS (
  SELECT id
  FROM jobs
  WHERE status = 'queued'
    AND run_at <= now()
    AND ($1::text[] IS NULL OR kind = ANY($1::text[]))
  ORDER BY run_at, created_at
  LIMIT 1
  FOR UPDATE SKIP LOCKED
)
UPDATE jobs
SET status = 'running',
    attempts = jobs.attempts + 1,
    locked_by = $2,
    lease_expires_at = now() + make_interval(secs => $3::double precision / 1000),
    updated_at = now()
FROM next_job
WHERE jobs.id = next_job.id
RETURNING jobs.id::text AS id, jobs.kind, jobs.payload, jobs.attempts, jobs.max_attempts, jobs.run_at,
          jobs.locked_by, jobs.lease_expires_at, jobs.dedupe_key, jobs.created_at`;

interface ClaimRow extends Record<string, unknown> {
  id: string;
  kind: string;
  payload: unknown;
  attempts: number;
  max_attempts: number;
  run_at: Date | string;
  locked_by: string;
  lease_expires_at: Date | string;
  dedupe_key: string | null;
  created_at: Date | string;
}

const toDate = (v: Date | string) => (v instanceof Date ? v : new Date(v));

/** Claims one job, or returns null when none is runnable now. */
export async function claimNextJob(db: Queryable, options: ClaimOptions): Promise<ClaimedJob | null> {
  if (!options.workerId) throw new Error('claimNextJob: workerId is required');
  if (!(options.leaseMs > 0)) throw new Error(`claimNextJob: leaseMs must be > 0, got ${options.leaseMs}`);
  const kinds = options.kinds && options.kinds.length > 0 ? [...options.kinds] : null;
  const [row] = await queryRows<ClaimRow>(db, CLAIM_SQL, [kinds, options.workerId, options.leaseMs]);
  if (!row) return null;
  return {
    id: row.id,
    kind: row.kind,
    payload: row.payload,
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    runAt: toDate(row.run_at),
    lockedBy: row.locked_by,
    leaseExpiresAt: toDate(row.lease_expires_at),
    dedupeKey: row.dedupe_key,
    createdAt: toDate(row.created_at),
  };
}
