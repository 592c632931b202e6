-- Commit status (docs/webhooks.md): the tenant secret holding a pipeline's forge token, and where each run
-- started by a forge reports its status (with the last state delivered, so statuses arrive in order).
-- AlterTable
ALTER TABLE "pipeline_webhooks" ADD COLUMN     "status_token_secret" TEXT;

-- CreateTable
CREATE TABLE "run_status_targets" (
    "run_id" TEXT NOT NULL,
    "forge" TEXT NOT NULL,
    "api_url" TEXT NOT NULL,
    "repository" TEXT NOT NULL,
    "sha" TEXT NOT NULL,
    "context" TEXT NOT NULL,
    "delivered_state" TEXT,
    "delivered_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "run_status_targets_pkey" PRIMARY KEY ("run_id")
);

-- AddForeignKey
ALTER TABLE "run_status_targets" ADD CONSTRAINT "run_status_targets_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "pipeline_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
