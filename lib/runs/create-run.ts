/**
 * Creating a run: one transaction that numbers it, plans it, stores its stages and enqueues the `run`
 * job. Shared by everything that starts runs (the REST API, the scheduler, re-runs), which add their
 * own authorization and auditing around it.
 *
 * The run number comes from Pipeline.nextRunNumber, incremented first: the UPDATE's row lock serializes
 * concurrent creations for one pipeline, so numbers are unique and gapless (a creation that fails later
 * rolls its increment back).
 */
import type { Prisma } from '../db/client';
import { plan, type ExecutionPlan, type PipelineSpec, type TriggerContext } from '../pipeline';
import { enqueueJob } from '../queue/enqueue';
import { insertLogChunk } from './log-chunks';
import { STREAM_CODES } from './log-lines';
import { cancelSupersededRuns } from './groups';
import { announceRunQueued } from '../realtime/publisher';

/**
 * Stage runs that are not stages of the plan (their ids start with `@`, which no stage name can): `@checkout`
 * (shown as `checkout`) is the clone of the repository the worker makes before the first stage (every
 * first-level stage implicitly follows it; its log is git's output), and `@config` holds the diagnostics of
 * a config read from the repository that turned out invalid (see createFailedRun). See docs/source.md.
 */
export const CHECKOUT_STAGE_ID = '@checkout';
export const CONFIG_STAGE_ID = '@config';

export type Tx = Prisma.TransactionClient;

/** The trigger filters (`on ...`) do not match this trigger: nothing would run. */
export class NotTriggeredError extends Error {
  constructor(readonly reason: string | null) {
    super(`the pipeline does not run for this trigger: ${reason ?? 'its filters do not match'}`);
    this.name = 'NotTriggeredError';
  }
}

/** What started a run and on which commit: the same columns for a run that runs and one created failed. */
export interface RunOrigin {
  /** The trigger without the run's identity, which is only known inside the transaction. */
  trigger: Omit<TriggerContext, 'runId' | 'runNumber'>;
  /** The user who started it, if a person did. */
  triggeredById: string | null;
  /** What started it when no person did (e.g. `schedule`). */
  triggeredBy?: string | null;
  /** The run this one re-runs (stored as PipelineRun.rerunOfId). */
  rerunOfId?: string | null;
  /** The forge's id of the webhook delivery that started it: unique per pipeline (one run per delivery). */
  deliveryId?: string | null;
  /** The pull request a `pull_request` run is for (its `branch` is the target branch). */
  pullRequest?: PullRequestInfo | null;
}

/** The pipeline's next run number, taken in the transaction that creates the run (numbers have no gaps). */
async function takeRunNumber(tx: Tx, pipelineId: string): Promise<number> {
  const counter = await tx.pipeline.update({ where: { id: pipelineId }, data: { nextRunNumber: { increment: 1 } }, select: { nextRunNumber: true } });
  return counter.nextRunNumber - 1;
}

function originColumns(input: RunOrigin) {
  const { trigger } = input;
  return {
    event: trigger.event,
    branch: trigger.branch ?? null,
    tag: trigger.tag ?? null,
    commitSha: trigger.sha ?? null,
    commitMessage: trigger.message ?? null,
    commitAuthor: trigger.author ?? null,
    variables: trigger.variables ?? {},
    triggeredById: input.triggeredById,
    triggeredBy: input.triggeredBy ?? null,
    rerunOfId: input.rerunOfId ?? null,
    deliveryId: input.deliveryId ?? null,
    pullRequest: input.pullRequest?.number ?? null,
    sourceBranch: input.pullRequest?.sourceBranch ?? null,
    targetBranch: input.pullRequest?.targetBranch ?? null,
  };
}

export interface NewRun extends RunOrigin {
  /** `includes`: the files the config includes, by path (kept with the run, so a re-run plans the same). */
  pipeline: { id: string; config: string; includes?: Record<string, string> };
  spec: PipelineSpec;
  /**
   * Stages whose result is taken over from an earlier run instead of executing them: created `succeeded`
   * with this reason and exit code, never started (startedAt null). An entry only applies to a stage of
   * the new plan that is not skipped and whose needs are all reused too (transitively); the others are
   * created pending as usual. The worker copies their artifacts (see worker/jobs/run-pipeline.ts).
   */
  reuse?: ReadonlyArray<ReusedStage>;
  /** The pipeline has a repository: the run gets a `@checkout` stage run, which the worker executes first. */
  checkout?: boolean;
}

export interface PullRequestInfo {
  number: number;
  sourceBranch: string;
  targetBranch: string;
}

export interface ReusedStage {
  stageId: string;
  exitCode: number | null;
  reason: string;
  /** The outputs the stage wrote in the earlier run, which its dependents read again. */
  outputs?: Record<string, string> | null;
}

/** The reuse entries that apply to `executionPlan` (see NewRun.reuse), by stage id. */
export function applicableReuse(executionPlan: ExecutionPlan, reuse: ReadonlyArray<ReusedStage>): Map<string, ReusedStage> {
  const offered = new Map(reuse.map((entry) => [entry.stageId, entry]));
  const byId = new Map(executionPlan.stages.map((stage) => [stage.id, stage]));
  const decided = new Map<string, boolean>();
  const reusable = (id: string, seen: Set<string>): boolean => {
    const known = decided.get(id);
    if (known !== undefined) return known;
    const stage = byId.get(id);
    // `seen` guards against a cyclic plan (plan() rejects cycles; this only keeps a bad input finite).
    const ok = stage !== undefined && !stage.skip && offered.has(id) && !seen.has(id) && stage.needs.every((need) => reusable(need, new Set(seen).add(id)));
    decided.set(id, ok);
    return ok;
  };
  const applied = new Map<string, ReusedStage>();
  for (const stage of executionPlan.stages) if (reusable(stage.id, new Set())) applied.set(stage.id, offered.get(stage.id)!);
  return applied;
}

/** Creates the run, its stage rows and its `run` job in `tx`; throws PlanError or NotTriggeredError. */
export async function createRun(tx: Tx, input: NewRun) {
  const { pipeline, trigger } = input;
  const number = await takeRunNumber(tx, pipeline.id);
  const created = await tx.pipelineRun.create({
    data: {
      pipelineId: pipeline.id,
      number,
      status: 'queued',
      ...originColumns(input),
      // Replaced below: the plan needs the run's id.
      plan: {},
      configSource: pipeline.config,
      ...(pipeline.includes && Object.keys(pipeline.includes).length > 0 ? { configIncludes: pipeline.includes } : {}),
      ...(trigger.changedFiles !== undefined ? { changedFiles: trigger.changedFiles } : {}),
    },
  });

  const pullRequest = input.pullRequest ? { pullRequest: input.pullRequest } : {};
  const executionPlan: ExecutionPlan = plan(input.spec, { ...trigger, ...pullRequest, runId: created.id, runNumber: number });
  if (!executionPlan.triggered) throw new NotTriggeredError(executionPlan.notTriggeredReason);

  const run = await tx.pipelineRun.update({
    where: { id: created.id },
    data: { plan: executionPlan as unknown as Prisma.InputJsonValue, concurrencyGroup: executionPlan.group?.name ?? null },
  });
  const { tenantId } = await tx.pipeline.findUniqueOrThrow({ where: { id: pipeline.id }, select: { tenantId: true } });
  if (executionPlan.group?.cancelInProgress) {
    await cancelSupersededRuns(tx, { id: run.id, tenantId, group: executionPlan.group.name, createdAt: run.createdAt });
  }
  const reused = applicableReuse(executionPlan, input.reuse ?? []);
  const now = new Date();
  await tx.stageRun.createMany({
    data: executionPlan.stages.map((stage) => {
      const reuse = reused.get(stage.id);
      return {
        runId: run.id,
        stageId: stage.id,
        name: stage.name,
        matrix: stage.matrix,
        needs: stage.needs,
        status: reuse ? ('succeeded' as const) : stage.skip ? ('skipped' as const) : ('pending' as const),
        reason: reuse ? reuse.reason : (stage.skip?.reason ?? null),
        executor: stage.executor,
        ...(reuse ? { exitCode: reuse.exitCode, finishedAt: now, ...(reuse.outputs ? { outputs: reuse.outputs } : {}) } : {}),
      };
    }),
  });
  if (input.checkout) {
    await tx.stageRun.create({ data: { runId: run.id, stageId: CHECKOUT_STAGE_ID, name: 'checkout', needs: [], status: 'pending', executor: 'git' } });
  }
  await enqueueJob(tx, { kind: 'run', payload: { runId: run.id }, dedupeKey: `run:${run.id}` });
  await announceRunQueued(tx, tenantId, { type: 'run.queued', time: run.createdAt.toISOString(), runId: run.id, pipelineId: pipeline.id, number });
  const stages = await tx.stageRun.findMany({ where: { runId: run.id } });
  return { run, stages, number, reused: [...reused.keys()] };
}

export interface FailedRun extends RunOrigin {
  pipeline: { id: string; config: string | null };
  /** Why (the `@config` stage's reason). */
  reason: string;
  /** The log of the `@config` stage (diagnostics as FILE:LINE:COL: message). */
  lines: string[];
}

/**
 * A run that cannot be planned because of its commit (the config read from the repository is invalid or
 * missing): created `failed` at once, with an empty plan, no job, and one `@config` stage run (`config`)
 * whose log holds the diagnostics, so the trigger answers with a run to look at rather than an error.
 */
export async function createFailedRun(tx: Tx, input: FailedRun) {
  const { pipeline } = input;
  const number = await takeRunNumber(tx, pipeline.id);
  const now = new Date();
  const run = await tx.pipelineRun.create({
    data: {
      pipelineId: pipeline.id,
      number,
      status: 'failed',
      ...originColumns(input),
      plan: { stages: [] },
      configSource: pipeline.config,
      startedAt: now,
      finishedAt: now,
    },
  });
  const stage = await tx.stageRun.create({
    data: {
      runId: run.id,
      stageId: CONFIG_STAGE_ID,
      name: 'config',
      needs: [],
      status: 'failed',
      reason: input.reason.slice(0, 2000),
      startedAt: now,
      finishedAt: now,
    },
  });
  const lines = input.lines.flatMap((line) => line.split('\n'));
  if (lines.length > 0) {
    await insertLogChunk(tx, {
      stageRunId: stage.id,
      seq: 1,
      text: lines.map((line) => `${line}\n`).join(''),
      firstLine: 1,
      lineCount: lines.length,
      streams: STREAM_CODES.system.repeat(lines.length),
      attempt: 1,
    });
  }
  return { run, stages: [stage], number };
}
