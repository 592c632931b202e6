-- `include "PATH"` (docs/pipeline-language.md, "Reuse"): the files a run's config includes, kept with the run so a re-run plans the same.
-- AlterTable
ALTER TABLE "pipeline_runs" ADD COLUMN     "config_includes" JSONB;
