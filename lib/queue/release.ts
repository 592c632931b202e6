// Hand a job back: the worker is shutting down and the job did not finish within the grace period.
// The job goes straight back to `queued` with run_at = now() (the jobs_notify_requeued trigger NOTIFYs),
// so another worker starts it at once instead of waiting for the lease to expire.
//
// The attempt is NOT counted (attempts - 1): a hand-back is a deliberate, clean interruption (a deploy,
// a scale-down), not a failure of the job, and a long job interrupted by a few rolling restarts must not
// run out of attempts because of them. last_error is left as it was. Only the lease holder may hand back.
//
// A handler that cannot go on yet (a run waiting for an older run of its concurrency group) defers its
// job the same way, with a delay (JobDeferred, ./defer.ts): the job takes no worker slot meanwhile, and
// whatever it waits for may wake it earlier by moving its run_at to now().
import { queryRows, type Queryable } from '../db/client';

const RELEASE_JOB_SQL = `
UPDATE jobs
SET status = 'queued',
    attempts = greatest(attempts - 1, 0),
    run_at = now() + $3::double precision * interval '1 millisecond',
    locked_by = NULL,
    lease_expires_at = NULL,
    updated_at = now()
WHERE id = $1::uuid
  AND locked_by = $2
  AND status = 'running'
RETURNING 1 AS released`;

/** Puts a running job back in the queue, uncounted, due in `delayMs`; false when workerId does not hold it. */
export async function releaseJob(db: Queryable, jobId: string, workerId: string, delayMs = 0): Promise<boolean> {
  const rows = await queryRows(db, RELEASE_JOB_SQL, [jobId, workerId, delayMs]);
  return rows.length === 1;
}
