-- Stage locks (docs/pipeline-language.md, "Stage locks"): which stage asked for / holds which lock, and what a
-- waiting stage or run waits for (shown by the API).
-- AlterTable
ALTER TABLE "pipeline_runs" ADD COLUMN     "waiting_for" JSONB;

-- AlterTable
ALTER TABLE "stage_runs" ADD COLUMN     "lock_held_at" TIMESTAMPTZ(6),
ADD COLUMN     "lock_name" TEXT,
ADD COLUMN     "lock_requested_at" TIMESTAMPTZ(6),
ADD COLUMN     "waiting_for" JSONB;

-- CreateIndex
CREATE INDEX "stage_runs_lock_name_idx" ON "stage_runs"("lock_name");
