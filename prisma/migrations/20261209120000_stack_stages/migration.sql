-- Pipeline stages that drive a stack (`stack "NAME" action="plan|apply"`, docs/pipeline-language.md): the stack run a
-- stage queued, stored with the stage run so a restarted worker waits for that run again instead of queueing another.
-- AlterTable
ALTER TABLE "stage_runs" ADD COLUMN     "stack_run_id" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "stage_runs_stack_run_id_key" ON "stage_runs"("stack_run_id");

-- AddForeignKey
ALTER TABLE "stage_runs" ADD CONSTRAINT "stage_runs_stack_run_id_fkey" FOREIGN KEY ("stack_run_id") REFERENCES "stack_runs"("id") ON DELETE SET NULL ON UPDATE CASCADE;
