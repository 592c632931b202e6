-- Webhooks (docs/webhooks.md): a run remembers the delivery that started it (one run per delivery) and the
-- pull request it is for; each pipeline may have one webhook secret, encrypted like tenant secrets.
-- AlterTable
ALTER TABLE "pipeline_runs" ADD COLUMN     "delivery_id" TEXT,
ADD COLUMN     "pull_request" INTEGER,
ADD COLUMN     "source_branch" TEXT,
ADD COLUMN     "target_branch" TEXT;

-- CreateTable
CREATE TABLE "pipeline_webhooks" (
    "id" TEXT NOT NULL,
    "pipeline_id" TEXT NOT NULL,
    "ciphertext" BYTEA NOT NULL,
    "iv" BYTEA NOT NULL,
    "auth_tag" BYTEA NOT NULL,
    "key_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "pipeline_webhooks_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "pipeline_runs_pipeline_id_delivery_id_key" ON "pipeline_runs"("pipeline_id", "delivery_id");

-- CreateIndex
CREATE UNIQUE INDEX "pipeline_webhooks_pipeline_id_key" ON "pipeline_webhooks"("pipeline_id");

-- AddForeignKey
ALTER TABLE "pipeline_webhooks" ADD CONSTRAINT "pipeline_webhooks_pipeline_id_fkey" FOREIGN KEY ("pipeline_id") REFERENCES "pipelines"("id") ON DELETE CASCADE ON UPDATE CASCADE;
