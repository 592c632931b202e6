// An attempt failed: schedule a retry with exponential backoff, or fail the job for good once it has
// used max_attempts. Only the lease holder may (`locked_by = $2 AND status = 'running'`).
//
// Backoff lives in SQL, as in graphile-worker's failJobs, so every worker computes the same schedule from
// the row itself: after attempt n the job runs again at
//     run_at = now() + least(2^n, 300) seconds      (2 s, 4 s, 8 s, 16 s, ... capped at 5 minutes)
// (no jitter: retries of different jobs are not correlated, and a job has one retry in flight at a time).
// The retry goes back to `queued` with locked_by cleared, which fires the jobs_notify_requeued trigger
// (NOTIFY buildit_jobs) like an insert; the job only becomes claimable at its new run_at.
// The error message is kept in last_error either way, and the job's lease-expiry count starts over (this
// attempt ended with an error of its own, see claim.ts); status `failed` also sets finished_at.
import { queryRows, type Queryable } from '../db/client';
import { toDate } from './rows';

/** Seconds to wait before retrying after attempt `attempts` (same formula as the SQL, for docs and tests). */
export const retryDelaySeconds = (attempts: number): number => Math.min(2 ** attempts, MAX_RETRY_DELAY_SECONDS);
export const MAX_RETRY_DELAY_SECONDS = 300;

// last_error is capped (a handler's error message can be a whole log).
export const MAX_ERROR_LENGTH = 10_000;

const FAIL_JOB_SQL = `
UPDATE jobs
SET status = CASE WHEN attempts >= max_attempts THEN 'failed'::job_status ELSE 'queued'::job_status END,
    run_at = CASE WHEN attempts >= max_attempts THEN run_at
                  ELSE now() + make_interval(secs => least(power(2, attempts), ${MAX_RETRY_DELAY_SECONDS})) END,
    locked_by = NULL,
    lease_expires_at = NULL,
    last_error = $3,
    lease_expiries = 0,
    finished_at = CASE WHEN attempts >= max_attempts THEN now() ELSE NULL END,
    updated_at = now()
WHERE id = $1::uuid
  AND locked_by = $2
  AND status = 'running'
RETURNING status::text AS status, run_at, attempts`;

export type FailResult =
  | { outcome: 'retry'; runAt: Date; attempts: number }
  | { outcome: 'failed'; attempts: number }
  /** The job is not held by this worker (lease lost): nothing changed. */
  | { outcome: 'not-owner' };

export async function failJob(db: Queryable, jobId: string, workerId: string, error: string): Promise<FailResult> {
  const message = (error || 'unknown error').slice(0, MAX_ERROR_LENGTH);
  const [row] = await queryRows<{ status: string; run_at: Date | string; attempts: number }>(db, FAIL_JOB_SQL, [jobId, workerId, message]);
  if (!row) return { outcome: 'not-owner' };
  if (row.status === 'failed') return { outcome: 'failed', attempts: Number(row.attempts) };
  return { outcome: 'retry', runAt: toDate(row.run_at), attempts: Number(row.attempts) };
}
