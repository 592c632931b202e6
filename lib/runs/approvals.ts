/**
 * Approvals from the web (docs/approvals.md): a person approves or denies a stage that waits in
 * `waiting_approval` (the orchestrator's `stage.waiting_approval`, stored by the StoreSink). The decision
 * is a StageApproval row, written only while the stage waits (under the stage row's lock, so two people
 * answering at once get one decision); the worker running the run reads it (worker/jobs/run/approvals.ts)
 * and moves the stage on. Nothing lives only in a worker's memory, so a worker restart keeps waiting, or
 * acts on a decision made while no worker ran the run.
 */
import { queryRows, type Queryable } from '../db/client';
import type { StageStatus } from '../events/types';
import type { Tx } from './create-run';

export interface ApprovalDecision {
  approved: boolean;
  decidedById: string | null;
  decidedAt: Date;
}

export type DecideOutcome =
  { kind: 'decided' } | { kind: 'gone' } | { kind: 'not_waiting'; status: StageStatus } | { kind: 'already_decided'; decision: ApprovalDecision };

/** Stores a decision for a waiting stage, in the caller's transaction (which also writes the audit row). */
export async function decideApproval(tx: Tx, stageRunId: string, approved: boolean, decidedById: string | null): Promise<DecideOutcome> {
  const [stage] = await queryRows<{ status: StageStatus }>(tx, 'SELECT status FROM stage_runs WHERE id = $1 FOR UPDATE', [stageRunId]);
  if (!stage) return { kind: 'gone' };
  if (stage.status !== 'waiting_approval') return { kind: 'not_waiting', status: stage.status };
  const existing = await tx.stageApproval.findUnique({ where: { stageRunId } });
  if (existing) return { kind: 'already_decided', decision: existing };
  await tx.stageApproval.create({ data: { stageRunId, approved, decidedById } });
  return { kind: 'decided' };
}

/** The decision for a stage run, with who made it (for the reason a denied stage is skipped with). */
export async function readApprovalDecision(db: Queryable, stageRunId: string): Promise<(ApprovalDecision & { decidedBy: string | null }) | null> {
  const [row] = await queryRows<{ approved: boolean; decided_by_id: string | null; decided_at: Date; decided_by: string | null }>(
    db,
    `SELECT a.approved, a.decided_by_id, a.decided_at, coalesce(u.name, u.email) AS decided_by
       FROM stage_approvals a LEFT JOIN users u ON u.id = a.decided_by_id
      WHERE a.stage_run_id = $1`,
    [stageRunId],
  );
  if (!row) return null;
  return { approved: row.approved, decidedById: row.decided_by_id, decidedAt: new Date(row.decided_at), decidedBy: row.decided_by };
}
