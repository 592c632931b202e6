-- AlterTable
ALTER TABLE "pipeline_runs" ADD COLUMN     "rerun_of_id" TEXT;

-- CreateIndex
CREATE INDEX "pipeline_runs_rerun_of_id_idx" ON "pipeline_runs"("rerun_of_id");

-- AddForeignKey
ALTER TABLE "pipeline_runs" ADD CONSTRAINT "pipeline_runs_rerun_of_id_fkey" FOREIGN KEY ("rerun_of_id") REFERENCES "pipeline_runs"("id") ON DELETE SET NULL ON UPDATE CASCADE;
