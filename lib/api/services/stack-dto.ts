/** What the API shows of stacks, their runs, locks and environments; nothing here carries a sensitive value. */
import type { Environment, StackRun, StateLock } from '../../generated/prisma/client';
import type { PlanView } from '../../stacks/plan-view';
import type { LockInfo } from '../../stacks/state/locks';

type Person = { id: string; email: string } | null;

export const RUN_INCLUDE = {
  triggeredByUser: { select: { id: true, email: true } },
  approvedBy: { select: { id: true, email: true } },
} as const;

type RunRow = StackRun & { triggeredByUser: Person; approvedBy: Person };

export const STACK_INCLUDE = {
  tenant: { select: { organizationId: true } },
  environment: { select: { id: true, name: true } },
  lock: true,
  runs: { orderBy: { number: 'desc' as const }, take: 1, include: RUN_INCLUDE },
} as const;

export function stackRunSummaryDto(run: RunRow) {
  return {
    id: run.id,
    stackId: run.stackId,
    number: run.number,
    kind: run.kind,
    status: run.status,
    reason: run.reason,
    event: run.event,
    triggeredBy: run.triggeredByUser,
    triggeredByName: run.triggeredBy,
    approvedBy: run.approvedBy,
    approvedAt: run.approvedAt?.toISOString() ?? null,
    commitSha: run.commitSha,
    changeSummary: (run.changeSummary as { add: number; change: number; destroy: number; replace: number } | null) ?? null,
    outputs: (run.outputs as Record<string, { sensitive: boolean; value?: unknown }> | null) ?? null,
    cancelRequestedAt: run.cancelRequestedAt?.toISOString() ?? null,
    createdAt: run.createdAt.toISOString(),
    startedAt: run.startedAt?.toISOString() ?? null,
    finishedAt: run.finishedAt?.toISOString() ?? null,
  };
}

export function stackRunDto(run: RunRow, currentStateVersion: number) {
  const planned = run.planStateVersion !== null && (run.status === 'planned' || run.status === 'approved');
  const view = run.planView as unknown as (Omit<PlanView, 'attributes'> & Partial<Pick<PlanView, 'attributes'>>) | null;
  return {
    ...stackRunSummaryDto(run),
    // Views stored before `attributes` existed were all made from `show -json`.
    plan: view === null ? null : { ...view, attributes: view.attributes ?? 'stored' },
    planStateVersion: run.planStateVersion,
    stale: planned && run.planStateVersion !== currentStateVersion,
  };
}

export function lockDto(lock: StateLock | null, holderEmail: string | null) {
  if (!lock) return null;
  const info = lock.info as LockInfo;
  return {
    id: lock.lockId,
    operation: info.Operation ?? null,
    who: info.Who ?? null,
    createdAt: lock.createdAt.toISOString(),
    heldBy: { kind: lock.runId !== null ? ('run' as const) : ('user' as const), runId: lock.runId, userId: lock.userId, email: holderEmail },
  };
}

export function environmentDto(environment: Environment & { stack: { id: string; name: string } | null }) {
  return {
    id: environment.id,
    tenantId: environment.tenantId,
    name: environment.name,
    stack: environment.stack,
    outputs: environment.outputs as Record<string, { sensitive: boolean; value?: unknown }>,
    createdAt: environment.createdAt.toISOString(),
    updatedAt: environment.updatedAt.toISOString(),
  };
}
