-- Path filters (docs/pipeline-language.md, "Path filters"): the files a run's trigger changed, kept so a re-run plans the same.
-- AlterTable
ALTER TABLE "pipeline_runs" ADD COLUMN     "changed_files" JSONB;
