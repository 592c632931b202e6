-- Concurrency groups without a held worker slot (written by hand, like the job queue's triggers): a run
-- waiting for an older run of its group is not claimed; its job goes back to the queue with a delay
-- (lib/runs/groups.ts). When a run of a group finishes, the queued jobs of the group's queued runs become
-- due at once (never later than they were) and `buildit_jobs` is notified, so the next run starts within
-- milliseconds. Runs of other tenants with the same group name are woken too: they only check again.
CREATE FUNCTION "buildit_wake_group_runs"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "jobs" j SET "run_at" = LEAST(j."run_at", now())
  FROM "pipeline_runs" r
  WHERE r."concurrency_group" = NEW."concurrency_group" AND r."status" = 'queued'
    AND j."dedupe_key" = 'run:' || r."id" AND j."status" = 'queued' AND j."run_at" > now();
  IF FOUND THEN
    PERFORM pg_notify('buildit_jobs', 'run');
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER "pipeline_runs_wake_group"
AFTER UPDATE OF "status" ON "pipeline_runs"
FOR EACH ROW
WHEN (NEW."concurrency_group" IS NOT NULL AND NEW."status" IN ('succeeded', 'failed', 'cancelled') AND OLD."status" IS DISTINCT FROM NEW."status")
EXECUTE FUNCTION "buildit_wake_group_runs"();
