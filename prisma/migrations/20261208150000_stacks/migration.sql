-- CreateEnum
CREATE TYPE "stack_run_kind" AS ENUM ('plan', 'apply', 'destroy', 'drift');

-- CreateEnum
CREATE TYPE "stack_run_status" AS ENUM ('queued', 'planning', 'planned', 'no_changes', 'approved', 'discarded', 'applying', 'applied', 'errored', 'cancelled');

-- CreateTable
CREATE TABLE "stacks" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "repository" TEXT,
    "ref" TEXT NOT NULL DEFAULT 'main',
    "path" TEXT NOT NULL DEFAULT '.',
    "credentials_secret" TEXT,
    "auto_apply" BOOLEAN NOT NULL DEFAULT false,
    "drift_schedule" TEXT,
    "drifted" BOOLEAN NOT NULL DEFAULT false,
    "drift_checked_at" TIMESTAMPTZ(3),
    "next_run_number" INTEGER NOT NULL DEFAULT 1,
    "next_state_version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "stacks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "stack_variables" (
    "id" TEXT NOT NULL,
    "stack_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "hcl" BOOLEAN NOT NULL DEFAULT false,
    "sensitive" BOOLEAN NOT NULL DEFAULT false,
    "value" TEXT,
    "ciphertext" BYTEA,
    "iv" BYTEA,
    "auth_tag" BYTEA,
    "key_id" TEXT,
    "source_stack_id" TEXT,
    "source_output" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "stack_variables_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "stack_runs" (
    "id" TEXT NOT NULL,
    "stack_id" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "kind" "stack_run_kind" NOT NULL,
    "status" "stack_run_status" NOT NULL DEFAULT 'queued',
    "reason" TEXT,
    "event" TEXT NOT NULL,
    "triggered_by_id" TEXT,
    "triggered_by" TEXT,
    "approved_by_id" TEXT,
    "approved_at" TIMESTAMPTZ(3),
    "commit_sha" TEXT,
    "config_archive" BYTEA,
    "change_summary" JSONB,
    "plan_view" JSONB,
    "plan_json_ciphertext" BYTEA,
    "plan_file_ciphertext" BYTEA,
    "plan_iv" BYTEA,
    "plan_file_iv" BYTEA,
    "plan_auth_tag" BYTEA,
    "plan_file_auth_tag" BYTEA,
    "plan_key_id" TEXT,
    "plan_state_version" INTEGER,
    "outputs" JSONB,
    "backend_token_hash" TEXT,
    "cancel_requested_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "stack_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "stack_run_log_chunks" (
    "id" BIGSERIAL NOT NULL,
    "run_id" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "text" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "stack_run_log_chunks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "state_versions" (
    "id" TEXT NOT NULL,
    "stack_id" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "serial" INTEGER NOT NULL,
    "lineage" TEXT NOT NULL,
    "md5" TEXT NOT NULL,
    "ciphertext" BYTEA NOT NULL,
    "iv" BYTEA NOT NULL,
    "auth_tag" BYTEA NOT NULL,
    "key_id" TEXT NOT NULL,
    "run_id" TEXT,
    "created_by_id" TEXT,
    "created_by_api_key" TEXT,
    "rollback_of" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "state_versions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "state_locks" (
    "stack_id" TEXT NOT NULL,
    "lock_id" TEXT NOT NULL,
    "info" JSONB NOT NULL,
    "run_id" TEXT,
    "user_id" TEXT,
    "api_key_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "state_locks_pkey" PRIMARY KEY ("stack_id")
);

-- CreateTable
CREATE TABLE "environments" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "stack_id" TEXT,
    "outputs" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "environments_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "stacks_tenant_id_slug_key" ON "stacks"("tenant_id", "slug");

-- CreateIndex
CREATE INDEX "stack_variables_source_stack_id_idx" ON "stack_variables"("source_stack_id");

-- CreateIndex
CREATE UNIQUE INDEX "stack_variables_stack_id_name_key" ON "stack_variables"("stack_id", "name");

-- CreateIndex
CREATE INDEX "stack_runs_stack_id_created_at_idx" ON "stack_runs"("stack_id", "created_at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "stack_runs_stack_id_number_key" ON "stack_runs"("stack_id", "number");

-- CreateIndex
CREATE UNIQUE INDEX "stack_run_log_chunks_run_id_seq_key" ON "stack_run_log_chunks"("run_id", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "state_versions_stack_id_number_key" ON "state_versions"("stack_id", "number");

-- CreateIndex
CREATE UNIQUE INDEX "environments_stack_id_key" ON "environments"("stack_id");

-- CreateIndex
CREATE UNIQUE INDEX "environments_tenant_id_name_key" ON "environments"("tenant_id", "name");

-- AddForeignKey
ALTER TABLE "stacks" ADD CONSTRAINT "stacks_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "stack_variables" ADD CONSTRAINT "stack_variables_stack_id_fkey" FOREIGN KEY ("stack_id") REFERENCES "stacks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "stack_variables" ADD CONSTRAINT "stack_variables_source_stack_id_fkey" FOREIGN KEY ("source_stack_id") REFERENCES "stacks"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "stack_runs" ADD CONSTRAINT "stack_runs_stack_id_fkey" FOREIGN KEY ("stack_id") REFERENCES "stacks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "stack_runs" ADD CONSTRAINT "stack_runs_triggered_by_id_fkey" FOREIGN KEY ("triggered_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "stack_runs" ADD CONSTRAINT "stack_runs_approved_by_id_fkey" FOREIGN KEY ("approved_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "stack_run_log_chunks" ADD CONSTRAINT "stack_run_log_chunks_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "stack_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "state_versions" ADD CONSTRAINT "state_versions_stack_id_fkey" FOREIGN KEY ("stack_id") REFERENCES "stacks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "state_versions" ADD CONSTRAINT "state_versions_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "state_locks" ADD CONSTRAINT "state_locks_stack_id_fkey" FOREIGN KEY ("stack_id") REFERENCES "stacks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "environments" ADD CONSTRAINT "environments_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "environments" ADD CONSTRAINT "environments_stack_id_fkey" FOREIGN KEY ("stack_id") REFERENCES "stacks"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- One run of a stack runs terraform at a time: a second one stays queued until this index lets it start.
CREATE UNIQUE INDEX "stack_runs_one_active_per_stack" ON "stack_runs"("stack_id") WHERE "status" IN ('planning', 'applying');
