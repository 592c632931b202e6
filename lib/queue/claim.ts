// Claim the next runnable job: ONE statement, safe with any number of concurrent workers.
//
// Shape taken from graphile-worker's getJobs: a CTE picks a row with `FOR UPDATE SKIP LOCKED` (a row
// another transaction is claiming is skipped, not waited for, so claimers never block each other nor get
// the same row), and the UPDATE in the same statement marks it running, counts the attempt and takes a
// lease.
//
// Two sources, tried in this order:
// 1. `expired`: a running job whose lease ran out (its worker crashed, hung or lost the database for longer
//    than the lease). Taking it over is what makes a crashed worker cost seconds, not hours (graphile's
//    stale locks wait 4 hours; we have short leases renewed by heartbeats, see lease.ts). Uses the
//    (status, lease_expires_at) index. Tried first because there is rarely one, and when there is, it has
//    already waited a whole lease.
// 2. `runnable`: the oldest queued job with run_at <= now(), via the (status, run_at) index.
// Two single-index CTEs glued by `UNION ALL ... LIMIT 1` rather than one `WHERE (a) OR (b) ORDER BY`:
// the OR turns into a bitmap OR plus a sort of EVERY runnable row on each claim, which gets slow with a
// backlog. CTE scans are lazy, so when `expired` yields a row, `runnable` is never run (nor locks a row).
//
// Every claim counts an attempt. A takeover also counts a lease expiry (jobs.lease_expiries, the number of
// CONSECUTIVE expirations: failJob sets it back to 0, a hand-back leaves it) and writes
// `lease expired N times (worker crashed?)` into last_error for people to read. A taken-over job that has
// already used all its attempts is not run again: the same statement marks it `failed` with that message.
// claimNextJob then claims again, so the caller still gets a runnable job if there is one.
import { queryRows, type Queryable } from '../db/client';
import { toDate } from './rows';

export interface ClaimedJob {
  id: string;
  kind: string;
  payload: unknown;
  /** Attempts so far, this one included (1 on the first claim). */
  attempts: number;
  maxAttempts: number;
  runAt: Date;
  lockedBy: string;
  leaseExpiresAt: Date;
  dedupeKey: string | null;
  createdAt: Date;
  /** The error of the previous attempt (e.g. `lease expired 1 times (worker crashed?)`), or null. */
  lastError: string | null;
  /** Leases of this job that expired in a row, this takeover's included (0 after an attempt failed). */
  leaseExpiries: number;
  /** True when this claim took the job over from a worker whose lease expired. */
  takenOver: boolean;
}

/** A job whose lease expired once too often, failed by a claim instead of being run again. */
export interface ExhaustedJob {
  id: string;
  kind: string;
  attempts: number;
  leaseExpiries: number;
  lastError: string;
}

export interface ClaimOptions {
  /** Identifies the claimer (host:pid:n); stored in locked_by. */
  workerId: string;
  /** Only these kinds (default: any kind). */
  kinds?: readonly string[];
  /** Lease length; the worker must finish or heartbeat before it runs out. */
  leaseMs: number;
  /**
   * Jobs the claimer is still running itself: never "taken over" by it. After a database outage longer
   * than the lease its own job looks expired, and re-claiming it would run a second handler for it.
   * (Excluding by id, not by workerId: a worker restarted under the same id must take its old jobs over.)
   */
  excludeIds?: readonly string[];
  /** Told about every job this claim failed because its lease expired with no attempts left (for logs). */
  onExhausted?: (job: ExhaustedJob) => void;
}

const CLAIM_SQL = `
WITH expired AS MATERIALIZED (
  SELECT id,
         true AS takeover,
         attempts >= max_attempts AS exhausted
  FROM jobs
  WHERE status = 'running'
    AND lease_expires_at < now()
    AND ($1::text[] IS NULL OR kind = ANY($1::text[]))
    AND NOT (id = ANY($4::uuid[]))
  ORDER BY lease_expires_at
  LIMIT 1
  FOR UPDATE SKIP LOCKED
), runnable AS MATERIALIZED (
  SELECT id, false AS takeover, false AS exhausted
  FROM jobs
  WHERE status = 'queued'
    AND run_at <= now()
    AND ($1::text[] IS NULL OR kind = ANY($1::text[]))
  ORDER BY run_at, created_at
  LIMIT 1
  FOR UPDATE SKIP LOCKED
), next_job AS (
  SELECT * FROM expired
  UNION ALL
  SELECT * FROM runnable
  LIMIT 1
)
UPDATE jobs
SET status = CASE WHEN next_job.exhausted THEN 'failed'::job_status ELSE 'running'::job_status END,
    attempts = CASE WHEN next_job.exhausted THEN jobs.attempts ELSE jobs.attempts + 1 END,
    locked_by = CASE WHEN next_job.exhausted THEN NULL ELSE $2 END,
    lease_expires_at = CASE WHEN next_job.exhausted THEN NULL
                            ELSE now() + make_interval(secs => $3::double precision / 1000) END,
    lease_expiries = CASE WHEN next_job.takeover THEN jobs.lease_expiries + 1 ELSE jobs.lease_expiries END,
    last_error = CASE WHEN next_job.takeover
                      THEN format('lease expired %s times (worker crashed?)', jobs.lease_expiries + 1)
                      ELSE jobs.last_error END,
    finished_at = CASE WHEN next_job.exhausted THEN now() ELSE NULL END,
    updated_at = now()
FROM next_job
WHERE jobs.id = next_job.id
RETURNING jobs.id::text AS id, jobs.kind, jobs.payload, jobs.status::text AS status, jobs.attempts, jobs.max_attempts,
          jobs.run_at, jobs.locked_by, jobs.lease_expires_at, jobs.dedupe_key, jobs.created_at, jobs.last_error,
          jobs.lease_expiries, next_job.takeover`;

interface ClaimRow extends Record<string, unknown> {
  id: string;
  kind: string;
  payload: unknown;
  status: string;
  attempts: number;
  max_attempts: number;
  run_at: Date | string;
  locked_by: string;
  lease_expires_at: Date | string;
  dedupe_key: string | null;
  created_at: Date | string;
  last_error: string | null;
  lease_expiries: number;
  takeover: boolean;
}

/** Claims one job, or returns null when none is runnable now. */
export async function claimNextJob(db: Queryable, options: ClaimOptions): Promise<ClaimedJob | null> {
  if (!options.workerId) throw new Error('claimNextJob: workerId is required');
  if (!(options.leaseMs > 0)) throw new Error(`claimNextJob: leaseMs must be > 0, got ${options.leaseMs}`);
  const kinds = options.kinds && options.kinds.length > 0 ? [...options.kinds] : null;
  // Each exhausted row is failed for good by the statement that returns it, so this loop ends.
  for (;;) {
    const [row] = await queryRows<ClaimRow>(db, CLAIM_SQL, [kinds, options.workerId, options.leaseMs, [...(options.excludeIds ?? [])]]);
    if (!row) return null;
    if (row.status === 'failed') {
      options.onExhausted?.({
        id: row.id,
        kind: row.kind,
        attempts: Number(row.attempts),
        leaseExpiries: Number(row.lease_expiries),
        lastError: row.last_error ?? '',
      });
      continue;
    }
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
      lastError: row.last_error,
      leaseExpiries: Number(row.lease_expiries),
      takenOver: Boolean(row.takeover),
    };
  }
}
