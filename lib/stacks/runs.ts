/**
 * Stack runs: the one place that creates them (with their `stack_run` job, in one transaction) and moves
 * them from one status to the next. A transition names the statuses it may leave, so two writers (an
 * approval and a cancel, a worker and a cancel) cannot both win.
 *
 *   queued → planning → planned | no_changes | errored
 *   planned → approved | discarded;  approved → applying → applied | errored
 *   cancelled from queued, planning, planned, approved, applying
 */
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import type { StackRunKind, StackRunStatus } from '../generated/prisma/enums';
import { enqueueJob } from '../queue/enqueue';

type Tx = Prisma.TransactionClient;

export const STACK_RUN_JOB = 'stack_run';

export type StackRunPhase = 'plan' | 'apply';

export interface StackRunJobPayload {
  runId: string;
  phase: StackRunPhase;
}

export const FINISHED_STATUSES: readonly StackRunStatus[] = ['no_changes', 'discarded', 'applied', 'errored', 'cancelled'];
export const CANCELLABLE_STATUSES: readonly StackRunStatus[] = ['queued', 'planning', 'planned', 'approved', 'applying'];

/** Kinds whose plan may be applied (after approval, or at once on an auto-apply stack). */
export const APPLYING_KINDS: readonly StackRunKind[] = ['apply', 'destroy'];

export interface NewStackRun {
  stackId: string;
  kind: StackRunKind;
  /** api | cli | schedule | upstream | pipeline */
  event: string;
  triggeredById: string | null;
  triggeredBy?: string | null;
  /** The uploaded configuration; omitted: the stack's last upload (a stack without a repository re-plans what it last got). */
  configArchive?: Uint8Array<ArrayBuffer>;
}

export async function createStackRun(tx: Tx, input: NewStackRun) {
  const { nextRunNumber } = await tx.stack.update({ where: { id: input.stackId }, data: { nextRunNumber: { increment: 1 } }, select: { nextRunNumber: true } });
  const configArchive = input.configArchive ?? (await latestArchive(tx, input.stackId));
  const run = await tx.stackRun.create({
    data: {
      stackId: input.stackId,
      number: nextRunNumber - 1,
      kind: input.kind,
      event: input.event,
      triggeredById: input.triggeredById,
      triggeredBy: input.triggeredBy ?? null,
      configArchive,
    },
  });
  await enqueueStackRunJob(tx, run.id, 'plan');
  return run;
}

async function latestArchive(tx: Tx, stackId: string): Promise<Uint8Array<ArrayBuffer> | null> {
  const last = await tx.stackRun.findFirst({ where: { stackId, configArchive: { not: null } }, orderBy: { number: 'desc' }, select: { configArchive: true } });
  return last?.configArchive ?? null;
}

export async function enqueueStackRunJob(tx: Tx | PrismaClient, runId: string, phase: StackRunPhase, runAt?: Date): Promise<void> {
  const payload: StackRunJobPayload = { runId, phase };
  // A plan or an apply is started once per run; a run waiting for its stack gets new jobs without a key.
  await enqueueJob(tx, { kind: STACK_RUN_JOB, payload, ...(runAt ? { runAt } : { dedupeKey: `stack-run:${runId}:${phase}` }), maxAttempts: 3 });
}

/** Moves the run to `to` when it is in one of `from`; false when it was not (someone else moved it first). */
export async function transitionStackRun(
  db: Tx | PrismaClient,
  runId: string,
  from: readonly StackRunStatus[],
  to: StackRunStatus,
  data: Prisma.StackRunUncheckedUpdateManyInput = {},
): Promise<boolean> {
  const finished = FINISHED_STATUSES.includes(to) ? { finishedAt: new Date(), backendTokenHash: null } : {};
  const { count } = await db.stackRun.updateMany({ where: { id: runId, status: { in: [...from] } }, data: { ...data, ...finished, status: to } });
  return count === 1;
}
