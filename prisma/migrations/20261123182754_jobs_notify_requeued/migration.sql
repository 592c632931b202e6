-- Job queue wake-up on requeue (written by hand, like the insert trigger in the init migration).
-- A job that goes back to `queued` (a retry after failJob, a job handed back by a worker that shut down,
-- an operator's retry) notifies channel `buildit_jobs` with its kind, exactly as an insert does, so an
-- idle worker picks it up within milliseconds instead of at its next poll. Retries usually have a future
-- run_at (backoff): the woken worker finds nothing runnable yet and the poll picks the job up when due.
-- Delivered at commit; identical notifications of one transaction are folded into one.
CREATE TRIGGER "jobs_notify_requeued"
AFTER UPDATE OF "status" ON "jobs"
FOR EACH ROW
WHEN (NEW."status" = 'queued' AND OLD."status" IS DISTINCT FROM 'queued')
EXECUTE FUNCTION "buildit_notify_job_inserted"();
