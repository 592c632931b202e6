/** Stack runs (queue, show, approve, discard, cancel, logs): what the API does, independent of HTTP. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import type { Actor } from '../../auth/authorize';
import type { RequestOrigin } from '../../auth/request-origin';
import type { StackRunStatus } from '../../generated/prisma/enums';
import { announceOnCommit } from '../../stacks/announce';
import { readStackRunLog } from '../../stacks/run-log';
import {
  APPLYING_KINDS,
  CANCELLABLE_STATUSES,
  createStackRun as createRun,
  enqueueStackRunJob,
  FINISHED_STATUSES,
  transitionStackRun,
} from '../../stacks/runs';
import { latestVersionNumber } from '../../stacks/state/versions';
import { requireTenantAction } from '../access';
import { recordAudit } from '../audit';
import type { PrismaClient, Tx } from '../db';
import { ApiError, notFound } from '../errors';
import { keysetArgs, toPage, type PageRequest } from '../pagination';
import type { CreateStackRunBody } from '../schemas/stack-runs';
import { RUN_INCLUDE, stackRunDto, stackRunSummaryDto } from './stack-dto';
import { loadStackFor } from './stacks';

type RunAction = 'stack.read' | 'stack.plan' | 'stack.apply';

async function loadRunFor(prisma: PrismaClient, actor: Actor, runId: string, action: RunAction) {
  const run = await prisma.stackRun.findUnique({
    where: { id: runId },
    include: { ...RUN_INCLUDE, stack: { select: { id: true, tenantId: true, autoApply: true, tenant: { select: { organizationId: true } } } } },
  });
  if (!run) throw notFound('stack run');
  requireTenantAction(actor, action, { id: run.stack.tenantId, organizationId: run.stack.tenant.organizationId }, 'stack run');
  return run;
}

async function showRun(prisma: PrismaClient, runId: string) {
  const run = await prisma.stackRun.findUniqueOrThrow({ where: { id: runId }, include: RUN_INCLUDE });
  return stackRunDto(run, await latestVersionNumber(prisma, run.stackId));
}

export async function listStackRuns(prisma: PrismaClient, actor: Actor, stackId: string, page: PageRequest) {
  await loadStackFor(prisma, actor, stackId, 'stack.read');
  const keyset = keysetArgs(page);
  const rows = await prisma.stackRun.findMany({
    where: { AND: [{ stackId }, keyset.where] },
    orderBy: keyset.orderBy,
    take: keyset.take,
    include: RUN_INCLUDE,
  });
  return toPage(rows, page, stackRunSummaryDto);
}

export async function createStackRun(
  prisma: PrismaClient,
  actor: Actor,
  stackId: string,
  body: z.output<typeof CreateStackRunBody>,
  event: string,
  origin: RequestOrigin | null,
) {
  const run = await prisma.$transaction((tx) => queueStackRun(tx, actor, stackId, body, { event, origin }));
  return showRun(prisma, run.id);
}

export interface QueuedBy {
  /** api | cli | pipeline */
  event: string;
  origin: RequestOrigin | null;
  /** What queued it when it was not a person's request (`pipeline-run:ID/STAGE`). */
  triggeredBy?: string;
  /** Added to the audit row's details. */
  details?: Record<string, string>;
}

/** Checks and queues a run (with its job and audit row) in the caller's transaction: the API's and a pipeline stage's way in. */
export async function queueStackRun(tx: Tx, actor: Actor, stackId: string, body: z.output<typeof CreateStackRunBody>, by: QueuedBy) {
  const stack = await loadStackFor(tx, actor, stackId, 'stack.plan');
  // On an auto-apply stack, queueing an apply is applying.
  if (stack.autoApply && APPLYING_KINDS.includes(body.kind))
    requireTenantAction(actor, 'stack.apply', { id: stack.tenantId, organizationId: stack.tenant.organizationId }, 'stack');
  if (body.configuration !== undefined && stack.repository !== null) {
    throw new ApiError('validation_failed', 422, 'this stack reads its configuration from its repository: do not upload one');
  }
  const archive = body.configuration === undefined ? undefined : new Uint8Array(Buffer.from(body.configuration, 'base64'));
  if (stack.repository === null && archive === undefined && !(await tx.stackRun.count({ where: { stackId, configArchive: { not: null } } }))) {
    throw new ApiError(
      'configuration_required',
      422,
      'this stack has no repository and no configuration was uploaded yet: upload one (`buildit stacks plan STACK DIR`)',
    );
  }
  const created = await createRun(tx, {
    stackId,
    kind: body.kind,
    event: by.event,
    triggeredById: actor.userId,
    ...(by.triggeredBy ? { triggeredBy: by.triggeredBy } : {}),
    ...(archive ? { configArchive: archive } : {}),
  });
  await recordAudit(tx, actor, {
    action: 'stack.run',
    tenantId: stack.tenantId,
    targetType: 'stack_run',
    targetId: created.id,
    details: { stackId, kind: body.kind, number: created.number, ...by.details },
    origin: by.origin,
  });
  return created;
}

export async function getStackRun(prisma: PrismaClient, actor: Actor, runId: string) {
  await loadRunFor(prisma, actor, runId, 'stack.read');
  return showRun(prisma, runId);
}

function wrongStatus(action: string, status: StackRunStatus, why = ''): ApiError {
  return new ApiError('invalid_status', 409, `cannot ${action} a run that is ${status}${why}`);
}

type Decision = 'approve' | 'discard' | 'cancel';
type LoadedRun = Awaited<ReturnType<typeof loadRunFor>>;

/**
 * A person's decision on a run, in one transaction: `transition` moves the run (false: it was no longer in
 * a status the decision applies to: 409), then the audit row (`stack.<decision>`) and the `stack_run.event`
 * that shows the decision to the run's other viewers, sent when the transaction commits.
 */
async function decide(
  prisma: PrismaClient,
  actor: Actor,
  run: LoadedRun,
  decision: Decision,
  origin: RequestOrigin | null,
  transition: (tx: Tx) => Promise<boolean>,
) {
  await prisma.$transaction(async (tx) => {
    if (!(await transition(tx))) {
      // Say where the run is now: it moved since it was read (an approval that waited for the stored plan, say).
      const current = await tx.stackRun.findUnique({ where: { id: run.id }, select: { status: true } });
      throw wrongStatus(decision, current?.status ?? run.status);
    }
    await recordAudit(tx, actor, {
      action: `stack.${decision}`,
      tenantId: run.stack.tenantId,
      targetType: 'stack_run',
      targetId: run.id,
      details: { stackId: run.stackId, number: run.number },
      origin,
    });
    await announceOnCommit(tx, run.id);
  });
  return showRun(prisma, run.id);
}

/** How long an approval waits for the plan to be stored: the worker stores it a moment after the run is `planned`. */
const PLAN_STORED_WAIT_MS = 10_000;
const PLAN_STORED_POLL_MS = 25;

/** True once the run's plan file and attribute-level changes are stored, or the run is no longer `planned`. */
async function planStored(prisma: PrismaClient, runId: string): Promise<boolean> {
  const deadline = Date.now() + PLAN_STORED_WAIT_MS;
  for (;;) {
    const row = await prisma.stackRun.findUnique({ where: { id: runId }, select: { status: true, planKeyId: true } });
    if (row === null || row.status !== 'planned' || row.planKeyId !== null) return true;
    if (Date.now() >= deadline) return false;
    await sleep(PLAN_STORED_POLL_MS);
  }
}

export async function approveStackRun(prisma: PrismaClient, actor: Actor, runId: string, origin: RequestOrigin | null) {
  const run = await loadRunFor(prisma, actor, runId, 'stack.apply');
  if (!APPLYING_KINDS.includes(run.kind)) throw new ApiError('invalid_status', 409, `a ${run.kind} run is never applied: queue an apply run`);
  // Nobody approves what they could not review: an approval in the moment between `planned` and the stored plan waits.
  if (run.status === 'planned' && run.planKeyId === null && !(await planStored(prisma, runId))) {
    throw new ApiError('plan_not_stored', 409, 'the plan is still being stored (its file and attribute-level changes): approve again in a moment');
  }
  const current = await latestVersionNumber(prisma, run.stackId);
  if (run.status === 'planned' && run.planStateVersion !== current) {
    throw new ApiError('stale_plan', 409, `the state changed since this plan (version ${run.planStateVersion ?? 0}, now ${current}): queue a new plan`);
  }
  return decide(prisma, actor, run, 'approve', origin, async (tx) => {
    if (!(await transitionStackRun(tx, runId, ['planned'], 'approved', { approvedById: actor.userId, approvedAt: new Date() }))) return false;
    await enqueueStackRunJob(tx, runId, 'apply');
    return true;
  });
}

export async function discardStackRun(prisma: PrismaClient, actor: Actor, runId: string, origin: RequestOrigin | null) {
  const run = await loadRunFor(prisma, actor, runId, 'stack.apply');
  return decide(prisma, actor, run, 'discard', origin, (tx) => transitionStackRun(tx, runId, ['planned'], 'discarded', { reason: 'discarded' }));
}

/** Runs that no terraform is working on end at once; the worker stops a running one (SIGINT, then kill). */
const ENDS_AT_ONCE: readonly StackRunStatus[] = ['queued', 'planned', 'approved'];

export async function cancelStackRun(prisma: PrismaClient, actor: Actor, runId: string, origin: RequestOrigin | null) {
  const run = await loadRunFor(prisma, actor, runId, 'stack.plan');
  if (!CANCELLABLE_STATUSES.includes(run.status)) throw wrongStatus('cancel', run.status);
  return decide(prisma, actor, run, 'cancel', origin, async (tx) => {
    const now = new Date();
    const ended = await transitionStackRun(tx, runId, ENDS_AT_ONCE, 'cancelled', { cancelRequestedAt: now, reason: 'cancelled' });
    if (!ended)
      await tx.stackRun.updateMany({
        where: { id: runId, status: { in: ['planning', 'applying'] }, cancelRequestedAt: null },
        data: { cancelRequestedAt: now },
      });
    // Asking twice is harmless: the first request stands.
    return true;
  });
}

export async function getStackRunLogs(prisma: PrismaClient, actor: Actor, runId: string, after: number, limit: number) {
  const run = await loadRunFor(prisma, actor, runId, 'stack.read');
  const chunks = await readStackRunLog(prisma, runId, after, limit);
  // A planned (or no_changes) run's log goes on until its plan is stored: `show -json` logs in the moment between.
  const storing = (run.status === 'planned' || run.status === 'no_changes') && run.planKeyId === null;
  const finished = (FINISHED_STATUSES.includes(run.status) || run.status === 'planned') && !storing;
  return { items: chunks.map((c) => ({ seq: c.seq, text: c.text, createdAt: c.createdAt.toISOString() })), finished: finished && chunks.length < limit };
}
