-- Stage outputs (docs/pipeline-language.md, "Outputs"): what a stage wrote to $BUILDIT_OUTPUT, kept with its stage run.
-- AlterTable
ALTER TABLE "stage_runs" ADD COLUMN     "outputs" JSONB;
