/**
 * The server's `stack` stages (docs/pipeline-language.md, "Stack stages"): a stage queues a run of the stack
 * named by its slug in the pipeline run's tenant, through the service POST /api/v1/stacks/{id}/runs uses
 * (checks, job, audit row), and waits for it by polling its row, as approval stages wait for theirs. The stage
 * logs what the stack run does: the change summary and each changed resource, where to approve, the outcome.
 *
 * - Who: the stage acts for its pipeline run (a `pipeline` actor): it may queue and cancel runs of the
 *   run's tenant's stacks, apply included; an apply still waits for a person with stack.apply unless the
 *   stack auto-applies. The audit row and the stack run name the person who triggered the pipeline run.
 * - `plan` succeeds once the plan is made (`planned` or `no_changes`); the plan run is left `planned`, as one
 *   queued through the API is (a plan to review, never applied, blocking nothing). `apply` and `destroy`
 *   succeed when the run is `applied` (or had nothing to apply). Errored, cancelled or discarded: the stage fails.
 * - Crash safety: the stack run's id is stored on the stage run in the transaction that queues it, under the
 *   stage run's row lock. A worker that takes the run over finds it and waits for that run: never a second one.
 * - Stop: a cancelled (or timed out) stage cancels its stack run; a worker that lets go of the pipeline run
 *   leaves the stack run alone for the next worker to wait for.
 */
import type { Actor } from '../../../lib/auth/authorize';
import { ApiError } from '../../../lib/api/errors';
import { cancelStackRun, queueStackRun } from '../../../lib/api/services/stack-runs';
import type { StackStageOutcome, StackStageRequest, StackStageRunner } from '../../../lib/engine/orchestrator';
import type { PrismaClient } from '../../../lib/generated/prisma/client';
import type { StackRunKind, StackRunStatus } from '../../../lib/generated/prisma/enums';
import type { Logger } from '../../../lib/log';
import { didYouMean } from '../../../lib/pipeline/diagnostics';
import { summaryLine, type ChangeSummary, type PlanView, type ResourceAction } from '../../../lib/stacks/plan-view';
import { pause } from './approvals';

export const DEFAULT_STACK_POLL_MS = 1000;

export interface ServerStacksOptions {
  prisma: PrismaClient;
  run: { id: string; tenantId: string; organizationId: string; triggeredById: string | null };
  /** StageRun ids by planned stage id. */
  stageRunIds: ReadonlyMap<string, string>;
  /** True once the worker let go of the run (hand-back, lost lease): a stop then leaves the stack run alone. */
  detached: () => boolean;
  /** The web app's address, for the link to the stack run. */
  publicUrl: string;
  pollMs?: number;
  log?: Logger;
}

type Action = 'plan' | 'apply' | 'destroy';

interface StackRunRow {
  id: string;
  number: number;
  status: StackRunStatus;
  reason: string | null;
  changeSummary: unknown;
  planView: unknown;
  outputs: unknown;
  approvedBy: { name: string | null; email: string } | null;
  stack: { slug: string };
  planKeyId: string | null;
}

export function serverStacks(options: ServerStacksOptions): StackStageRunner {
  const actor = pipelineActor(options.run);
  return async (request) => {
    const stageRunId = options.stageRunIds.get(request.stageId);
    if (!stageRunId) return failed(request, `stage "${request.stageId}" has no stage run to record its stack run on`);
    let found: { runId: string; queued: boolean } | { problem: string };
    try {
      found = await stackRunOfStage(options, actor, stageRunId, request);
    } catch (error) {
      // The service's refusals (no configuration uploaded yet, ...) say what to do: they are the stage's reason.
      if (error instanceof ApiError) return failed(request, `could not queue a run of stack "${request.stack.name}": ${error.message}`);
      throw error;
    }
    if ('problem' in found) return failed(request, found.problem);
    return follow(options, actor, request, found);
  };
}

/** The rights of a pipeline run's stack stage (see the header); its audit rows name who triggered the run. */
function pipelineActor(run: ServerStacksOptions['run']): Actor {
  return {
    kind: 'pipeline',
    userId: run.triggeredById,
    apiKeyId: null,
    organizationId: run.organizationId,
    orgRole: null,
    tenantRoles: { [run.tenantId]: 'admin' },
    tenantRestriction: run.tenantId,
    scopes: ['stacks:plan', 'stacks:apply'],
  };
}

/** The stack run this stage queued before, or a new one; one transaction under the stage run's row lock. */
async function stackRunOfStage(
  options: ServerStacksOptions,
  actor: Actor,
  stageRunId: string,
  request: StackStageRequest,
): Promise<{ runId: string; queued: boolean } | { problem: string }> {
  const { run } = options;
  return options.prisma.$transaction(async (tx) => {
    const [row] = await tx.$queryRawUnsafe<Array<{ stack_run_id: string | null }>>('SELECT stack_run_id FROM stage_runs WHERE id = $1 FOR UPDATE', stageRunId);
    if (!row) return { problem: `stage run ${stageRunId} no longer exists` };
    if (row.stack_run_id !== null) return { runId: row.stack_run_id, queued: false };
    const slug = request.stack.name;
    const stack = await tx.stack.findUnique({ where: { tenantId_slug: { tenantId: run.tenantId, slug } }, select: { id: true } });
    if (!stack) {
      const slugs = (await tx.stack.findMany({ where: { tenantId: run.tenantId }, select: { slug: true }, orderBy: { slug: 'asc' } })).map((s) => s.slug);
      const hint =
        didYouMean(slug, slugs, (s) => `"${s}"`) ??
        (slugs.length === 0 ? 'this tenant has no stacks yet' : `stacks are ${slugs.map((s) => `"${s}"`).join(', ')}`);
      return { problem: `stack "${slug}" does not exist in this tenant (${hint})` };
    }
    const queued = await queueStackRun(
      tx,
      actor,
      stack.id,
      { kind: request.stack.action as StackRunKind },
      {
        event: 'pipeline',
        origin: null,
        triggeredBy: `pipeline-run:${run.id}/${request.stageId}`,
        details: { pipelineRunId: run.id, stage: request.stageId },
      },
    );
    await tx.stageRun.update({ where: { id: stageRunId }, data: { stackRunId: queued.id } });
    return { runId: queued.id, queued: true };
  });
}

/** Polls the stack run until it settles the stage, logging each status it is seen in. */
async function follow(
  options: ServerStacksOptions,
  actor: Actor,
  request: StackStageRequest,
  found: { runId: string; queued: boolean },
): Promise<StackStageOutcome> {
  const action = request.stack.action as Action;
  const pollMs = options.pollMs ?? DEFAULT_STACK_POLL_MS;
  const link = `${options.publicUrl.replace(/\/$/, '')}/stacks/runs/${found.runId}`;
  let seen: StackRunStatus | null = null;
  let summarized = false;
  let approvalShown = false;
  for (;;) {
    if (request.signal.aborted) return stop(options, actor, request, found.runId);
    const read = await readStackRun(options.prisma, found.runId).catch((error: unknown) => {
      options.log?.warn({ err: error, stackRunId: found.runId }, 'could not read the stack run; trying again');
      return undefined;
    });
    if (read === null) return failed(request, `stack run ${found.runId} no longer exists (was its stack deleted?)`);
    if (read !== undefined) {
      const row = settled(read);
      const name = `stack run #${row.number} of "${row.stack.slug}"`;
      if (seen === null)
        await request.log(found.queued ? `queued ${name} (${action}): ${link}` : `waiting again for ${name} (${action}), now ${row.status}: ${link}`);
      if (!summarized && row.changeSummary !== null) {
        summarized = true;
        for (const line of planLines(row)) await request.log(line);
      }
      // An approval is shown even when the poll missed the short `approved` status (it is on the row).
      if (!approvalShown && APPROVED_STATUSES.includes(row.status)) {
        approvalShown = true;
        await request.log(row.approvedBy ? `approved by ${row.approvedBy.name ?? row.approvedBy.email}` : 'approved (the stack applies automatically)');
      }
      if (row.status !== seen) {
        seen = row.status;
        const line = statusLine(row, action, link);
        if (line) await request.log(line);
      }
      const outcome = outcomeOf(row, action, name);
      if (outcome) {
        if (outcome.status === 'failed') await request.log(outcome.reason!);
        return outcome;
      }
    }
    await pause(pollMs, request.signal);
  }
}

async function readStackRun(prisma: PrismaClient, id: string): Promise<StackRunRow | null> {
  return prisma.stackRun.findUnique({
    where: { id },
    select: {
      id: true,
      number: true,
      status: true,
      reason: true,
      changeSummary: true,
      planView: true,
      outputs: true,
      approvedBy: { select: { name: true, email: true } },
      stack: { select: { slug: true } },
      planKeyId: true,
    },
  });
}

/**
 * A planned run counts as planning until its plan is stored, a moment later (lib/stacks/plan-stream.ts): only
 * then can it be approved, and a run of an auto-apply stack is approved then, never waiting for a person.
 */
const settled = (row: StackRunRow): StackRunRow => (row.status === 'planned' && row.planKeyId === null ? { ...row, status: 'planning' } : row);

/** Statuses of a run that was approved (by a person, or at once on an auto-apply stack). */
const APPROVED_STATUSES: readonly StackRunStatus[] = ['approved', 'applying', 'applied'];

const ACTION_MARKS: Record<ResourceAction, string> = { create: '+', update: '~', delete: '-', replace: '-/+', read: '<=', 'no-op': ' ' };

/** The change summary, then one line per changed resource (addresses and actions only: values stay on the plan page). */
function planLines(row: StackRunRow): string[] {
  const summary = row.changeSummary as ChangeSummary;
  const changed = summary.add + summary.change + summary.destroy + summary.replace > 0;
  const resources = (row.planView as PlanView | null)?.resources ?? [];
  return [
    summaryLine(summary, changed),
    ...resources.map((r) => `  ${ACTION_MARKS[r.action]} ${r.address} (${r.action}${r.reason ? `, ${r.reason.replaceAll('_', ' ')}` : ''})`),
  ];
}

function statusLine(row: StackRunRow, action: Action, link: string): string | null {
  switch (row.status) {
    case 'planning':
      return 'planning';
    case 'planned':
      return action === 'plan' ? null : `waiting for approval: review and approve the plan at ${link}`;
    case 'applying':
      return 'applying';
    case 'applied':
      return `applied${outputNames(row.outputs)}`;
    default:
      return null;
  }
}

/** Output names only: their values are the stack's, shown to those who may read it. */
function outputNames(outputs: unknown): string {
  const entries = Object.entries((outputs ?? {}) as Record<string, { sensitive?: boolean }>);
  if (entries.length === 0) return '';
  return `; outputs: ${entries.map(([name, output]) => (output.sensitive ? `${name} (sensitive)` : name)).join(', ')}`;
}

function outcomeOf(row: StackRunRow, action: Action, name: string): StackStageOutcome | null {
  switch (row.status) {
    case 'no_changes':
      return { status: 'succeeded' };
    case 'planned':
      return action === 'plan' ? { status: 'succeeded' } : null;
    case 'applied':
      return { status: 'succeeded' };
    case 'errored':
      return { status: 'failed', reason: `${name} errored: ${row.reason ?? 'see its log'}` };
    case 'cancelled':
      return { status: 'failed', reason: `${name} was cancelled` };
    case 'discarded':
      return { status: 'failed', reason: `${name} was discarded: its plan was not applied` };
    default:
      return null;
  }
}

/** The stage stops: its stack run is cancelled, unless the worker let go of the pipeline run (the next one waits again). */
async function stop(options: ServerStacksOptions, actor: Actor, request: StackStageRequest, runId: string): Promise<StackStageOutcome> {
  if (options.detached()) return { status: 'cancelled', reason: 'the worker let go of the run' };
  try {
    await cancelStackRun(options.prisma, actor, runId, null);
    await request.log('cancelled the stack run');
  } catch (error) {
    // It ended meanwhile: nothing to cancel.
    if (!(error instanceof ApiError)) throw error;
  }
  return { status: 'cancelled' };
}

async function failed(request: StackStageRequest, reason: string): Promise<StackStageOutcome> {
  await request.log(reason);
  return { status: 'failed', reason };
}
