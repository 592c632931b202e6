-- Concurrency groups (docs/pipeline-language.md, "Concurrency groups"): a run's group, to run one run of a group at a time.
-- AlterTable
ALTER TABLE "pipeline_runs" ADD COLUMN     "concurrency_group" TEXT;

-- CreateIndex
CREATE INDEX "pipeline_runs_concurrency_group_created_at_idx" ON "pipeline_runs"("concurrency_group", "created_at");
