-- Job times at microsecond precision, like now(). At millisecond precision `run_at = now()` is rounded
-- up to half a millisecond into the future, so a claim right after an enqueue (on its NOTIFY) could miss
-- the job until the next poll.
-- AlterTable
ALTER TABLE "jobs" ALTER COLUMN "run_at" SET DATA TYPE TIMESTAMPTZ(6),
ALTER COLUMN "lease_expires_at" SET DATA TYPE TIMESTAMPTZ(6),
ALTER COLUMN "created_at" SET DATA TYPE TIMESTAMPTZ(6),
ALTER COLUMN "updated_at" SET DATA TYPE TIMESTAMPTZ(6),
ALTER COLUMN "finished_at" SET DATA TYPE TIMESTAMPTZ(6);
