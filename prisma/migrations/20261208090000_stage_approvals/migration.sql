-- Approvals from the web (docs/approvals.md): a person's answer to a stage waiting for approval, read by the
-- worker that runs the stage's run.
-- CreateTable
CREATE TABLE "stage_approvals" (
    "stage_run_id" TEXT NOT NULL,
    "approved" BOOLEAN NOT NULL,
    "decided_by_id" TEXT,
    "decided_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "stage_approvals_pkey" PRIMARY KEY ("stage_run_id")
);

-- AddForeignKey
ALTER TABLE "stage_approvals" ADD CONSTRAINT "stage_approvals_stage_run_id_fkey" FOREIGN KEY ("stage_run_id") REFERENCES "stage_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "stage_approvals" ADD CONSTRAINT "stage_approvals_decided_by_id_fkey" FOREIGN KEY ("decided_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
