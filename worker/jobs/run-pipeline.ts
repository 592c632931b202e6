/**
 * The `run` job (payload `{ runId }`, enqueued by the API with the run): executes a PipelineRun's stored
 * plan with the orchestrator, storing every transition and log line through the StoreSink
 * (lib/runs/store-sink.ts) before it is published.
 *
 * - A run that is already finished or cancelled (the API cancels queued runs itself) is left alone.
 * - Executors: those enabled for this worker (BUILDIT_WORKER_EXECUTORS, default `docker` only). A stage
 *   runs on its own `executor`, else in a container (executorFor, the rule `buildit run` uses too); a stage
 *   that needs a disabled executor fails with the reason and how to enable it, never on another one.
 * - Workspace: `$BUILDIT_DATA_DIR/workspaces/RUN_ID/workspace`, EMPTY for now (no source checkout yet:
 *   the repository/commit checkout is a later issue). Removed when the run ends; the run's artifact store
 *   beside it (`.../RUN_ID/artifacts/`) is KEPT, for re-runs that reuse stages (no retention yet).
 * - Re-runs (`rerunOfId`, see lib/api/services/runs.ts rerunRun): stages created `succeeded` and never
 *   started are reused: see `prepareReusedStages`.
 * - Secrets: none yet; a stage that declares one fails with the orchestrator's clear reason.
 * - Approvals: not possible from the web yet; `approval` stages are skipped with APPROVAL_PENDING_REASON.
 * - Cancel: `cancelRequestedAt` (set by the API) is polled every `cancelPollMs` (1 s); when set, the
 *   orchestrator's signal is aborted and the run ends `cancelled` (running stages stopped, no container left).
 * - The executor handle (container id, pgid) is stored in StageRun.handleId when an attempt has spawned;
 *   containers carry the labels buildit.run / buildit.stage / buildit.attempt.
 * - ctx.signal (worker shutdown hand-back, lost lease): the handler DETACHES instead of cancelling: nothing
 *   more is written, docker containers keep running for the next worker to recover, local processes
 *   (which cannot be recovered) are stopped. The handler then throws (the runner drops the outcome).
 * - Recovery (the job claimed again after a crash, run status `running`): see `prepareResume`.
 */
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import type Docker from 'dockerode';
import { workerExecutorsFromEnv, type WorkerExecutorName } from '../../lib/config/env';
import type { RunEventPublisher } from '../../lib/events/server-events';
import { queryRows } from '../../lib/db/client';
import type { PrismaClient, StageRun } from '../../lib/generated/prisma/client';
import type { ExecutionPlan } from '../../lib/pipeline/plan-types';
import { createLogger, type Logger } from '../../lib/log';
import { readStoredLogPositions, StoreSink, type StoreSinkOptions } from '../../lib/runs/store-sink';
import { createExecutor, DockerExecutor, ExecutorError, recoverDockerHandle } from '../../lib/engine/executors';
import type { Executor, ExecutorHandle, ExitResult, HandleStatus, LogLine, StageJob } from '../../lib/engine/executors/types';
import { executorFor, runPlan, workspaceArtifactStore, type ResumedStage, type RunResult } from '../../lib/engine/orchestrator';
import { CacheStore, createRunWorkspace, stageArtifactDirName } from '../../lib/engine/workspace';
import { copyDirContents } from '../../lib/engine/workspace/copy';

export const APPROVAL_PENDING_REASON = 'approval required (approval from the web arrives later)';

const RunJobPayload = z.object({ runId: z.string().min(1) });

export interface RunPipelineJob {
  id: string;
  payload: unknown;
  /** 1 for the first claim; more after a crash or a hand-back. */
  attempts: number;
}

export interface RunPipelineContext {
  signal: AbortSignal;
  /** The job runner's logger (JobContext.log), used when deps.logger is not set. */
  log?: Logger;
}

export interface RunPipelineDeps {
  prisma: PrismaClient;
  publisher: RunEventPublisher;
  /** Default $BUILDIT_DATA_DIR or `.data`. */
  dataDir?: string;
  /** Executors by name (tests); default: those of `executorNames`. */
  executors?: Record<string, Executor>;
  /** Executors this worker runs stages on; default BUILDIT_WORKER_EXECUTORS (docker only). */
  executorNames?: readonly WorkerExecutorName[];
  /** Milliseconds between checks of cancelRequestedAt. Default 1000. */
  cancelPollMs?: number;
  /** Log batching and cap (defaults: 100 ms, 64 KiB, BUILDIT_LOG_CAP_BYTES or 100 MiB, 1 MiB tail). */
  sink?: Partial<Pick<StoreSinkOptions, 'flushIntervalMs' | 'chunkBytes' | 'logCapBytes' | 'logTailBytes'>>;
  concurrency?: number;
  cancelDeadlineMs?: number;
  logger?: Logger;
}

export type RunPipelineOutcome =
  | { kind: 'nothing_to_do'; reason: string }
  | { kind: 'ran'; result: RunResult; resumed: boolean };

/** The `run` job handler, for the job registry: `run: createRunPipelineHandler(deps)`. */
export function createRunPipelineHandler(deps: RunPipelineDeps): (job: RunPipelineJob, ctx: RunPipelineContext) => Promise<void> {
  // One set of executors per worker, not per run: a LocalExecutor keeps a spawn-helper process, which
  // each run would otherwise start again (first command ~35 ms later) and leave behind.
  let shared: Record<string, Executor> | undefined;
  return async (job, ctx) => {
    const executors = deps.executors ?? (shared ??= createWorkerExecutors(deps.executorNames ?? workerExecutorsFromEnv()));
    await runPipelineJob(job, ctx, { ...deps, executors });
  };
}

export async function runPipelineJob(job: RunPipelineJob, ctx: RunPipelineContext, deps: RunPipelineDeps): Promise<RunPipelineOutcome> {
  const parsed = RunJobPayload.safeParse(job.payload);
  if (!parsed.success) throw new Error(`run job ${job.id}: payload must be {"runId": "..."}, got ${JSON.stringify(job.payload)}`);
  const { runId } = parsed.data;
  const { prisma } = deps;
  const log = deps.logger ?? ctx.log?.child({ runId }) ?? createLogger('worker', { runId, jobId: job.id });

  const loaded = await prisma.pipelineRun.findUnique({
    where: { id: runId },
    include: { pipeline: { select: { tenantId: true } }, stages: true },
  });
  if (!loaded) return { kind: 'nothing_to_do', reason: 'the run no longer exists' };
  let status = loaded.status;
  if (status === 'queued') {
    // Claim the run: queued → running. The API may cancel a queued run at the same moment; the
    // conditional update decides who wins.
    const claimed = await prisma.pipelineRun.updateMany({ where: { id: runId, status: 'queued' }, data: { status: 'running' } });
    if (claimed.count === 0) status = (await prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId }, select: { status: true } })).status;
    else status = 'running';
  }
  if (status !== 'running') return { kind: 'nothing_to_do', reason: `the run is ${status}` };
  // Claimed again while running: the worker that ran it died (or handed it back).
  const resuming = loaded.status === 'running';

  const plan = loaded.plan as unknown as ExecutionPlan;
  if (!plan || !Array.isArray(plan.stages)) throw new Error(`run ${runId} has no valid plan`);
  const stageRunIds = new Map(loaded.stages.map((stage) => [stage.stageId, stage.id]));

  const executors = deps.executors ?? createWorkerExecutors(deps.executorNames ?? workerExecutorsFromEnv());
  const detachable = Object.fromEntries(Object.entries(executors).map(([name, executor]) => [name, new DetachableExecutor(executor, name === 'docker')]));

  const dataDir = path.resolve(deps.dataDir ?? (process.env.BUILDIT_DATA_DIR || '.data'));
  // Same directory for a resumed run: its running containers have it mounted.
  const workspace = await createRunWorkspace({ root: path.join(dataDir, 'workspaces'), runId });

  // A re-run's reused stages: their artifacts copied into this run's store, or run again when gone.
  let stageRows = loaded.stages;
  let reused = new Set<string>();
  if (loaded.rerunOfId) {
    const prepared = await prepareReusedStages({
      prisma,
      run: { id: runId, rerunOfId: loaded.rerunOfId, stages: loaded.stages },
      plan: plan,
      workspacesRoot: path.join(dataDir, 'workspaces'),
      artifactsDir: workspace.artifactsDir,
    });
    stageRows = prepared.stages;
    reused = prepared.reused;
    if (reused.size > 0 || prepared.runAgain.length > 0) log.info({ reused: [...reused], runAgain: prepared.runAgain }, 're-run: reusing stages of an earlier run');
  }

  let resume: Record<string, ResumedStage> | undefined;
  let storedLogs: StoreSinkOptions['storedLogs'];
  if (resuming) {
    storedLogs = await readStoredLogPositions(prisma, runId);
    resume = await prepareResume({ prisma, runId, plan: plan, stages: stageRows, executors });
    log.info({ resumed: Object.keys(resume ?? {}) }, 'resuming a run whose worker stopped');
  } else if (reused.size > 0) {
    // Reused stages are finished from the start: the orchestrator keeps their result without running them.
    const finished = await prepareResume({ prisma, runId, plan: plan, stages: stageRows.filter((row) => reused.has(row.stageId)), executors });
    resume = Object.fromEntries(Object.entries(finished).filter(([, entry]) => entry.state === 'finished'));
  }

  const sink = new StoreSink({
    prisma,
    publisher: deps.publisher,
    runId,
    tenantId: loaded.pipeline.tenantId,
    stageRunIds,
    attempts: new Map(loaded.stages.map((stage) => [stage.stageId, stage.attempt])),
    ...(storedLogs ? { storedLogs } : {}),
    ...deps.sink,
    logger: log,
  });

  const cancel = new AbortController();
  const checkCancel = async (): Promise<void> => {
    const row = await prisma.pipelineRun.findUnique({ where: { id: runId }, select: { cancelRequestedAt: true } });
    if (row?.cancelRequestedAt) cancel.abort();
  };
  const poller = setInterval(() => {
    if (!cancel.signal.aborted) checkCancel().catch((error: unknown) => log.warn({ err: error }, 'could not check for a cancel request'));
  }, deps.cancelPollMs ?? 1000);

  let detached = false;
  let onDetach: (error: Error) => void = () => {};
  const detachedPromise = new Promise<never>((_, reject) => (onDetach = reject));
  detachedPromise.catch(() => {});
  const detach = (): void => {
    if (detached) return;
    detached = true;
    sink.detach();
    for (const executor of Object.values(detachable)) executor.detach();
    // The orchestrator winds down in the background without side effects: nothing is written (the sink
    // is detached), docker containers are left alone, and no further stage starts (no artifact restore
    // into a workspace the next worker may already use).
    cancel.abort();
    onDetach(new Error(`run ${runId}: this worker stopped supervising the run (${describeReason(ctx.signal.reason)}); the next worker resumes it`));
  };
  ctx.signal.addEventListener('abort', detach, { once: true });

  try {
    await checkCancel();
    if (ctx.signal.aborted) detach();
    const orchestration = runPlan({
      plan: plan,
      runId,
      executors: detachable,
      unavailableExecutors: unavailableReasons(Object.keys(executors)),
      sink,
      workspace: workspace.dir,
      artifacts: workspaceArtifactStore({ workspace: workspace.dir, artifactsDir: workspace.artifactsDir }),
      cacheStore: new CacheStore(path.join(dataDir, 'caches')),
      secrets: {},
      approvals: () => Promise.resolve({ approved: false, reason: APPROVAL_PENDING_REASON }),
      signal: cancel.signal,
      labels: { 'buildit.origin': 'server' },
      ...(deps.concurrency !== undefined ? { concurrency: deps.concurrency } : {}),
      ...(deps.cancelDeadlineMs !== undefined ? { cancelDeadlineMs: deps.cancelDeadlineMs } : {}),
      ...(resume ? { resume } : {}),
      onSpawned: async ({ stageId, handle }) => {
        const id = stageRunIds.get(stageId);
        if (!id || detached) return;
        await prisma.stageRun.update({ where: { id }, data: { handleId: handle.id } });
      },
    });
    orchestration.catch(() => {});
    const result = await Promise.race([orchestration, detachedPromise]);
    await sink.close();
    // The artifact store stays (a re-run of this run reuses it); the workspace goes.
    await rm(workspace.dir, { recursive: true, force: true, maxRetries: 3 }).catch((error: unknown) => log.warn({ err: error }, 'could not remove the run workspace'));
    return { kind: 'ran', result, resumed: resuming };
  } catch (error) {
    if (!detached) await markRunFailed(prisma, runId, error).catch((markError: unknown) => log.error({ err: markError }, 'could not mark the run failed'));
    throw error;
  } finally {
    clearInterval(poller);
    ctx.signal.removeEventListener('abort', detach);
  }
}

const FINISHED_STAGE = new Set(['succeeded', 'failed', 'skipped', 'cancelled']);

/**
 * Crash recovery: what the new worker takes over from the one that stopped.
 * - Finished stages keep their stored result (they are never run again).
 * - Running docker stages: the attempt's container is found by its labels (buildit.run / buildit.stage /
 *   buildit.attempt). Running or exited, the orchestrator re-attaches to its log, skipping the lines of
 *   that attempt already stored, and takes its exit code. Gone: the attempt fails `lost` (retried when the
 *   stage has `retry` left: the old attempt cannot be running any more).
 * - Running local stages: the process cannot be re-attached (its pipes died with the worker) and may still
 *   run, so the stage fails `lost` and is not retried.
 * - Stages that had not started begin again from pending.
 */
async function prepareResume(options: {
  prisma: PrismaClient;
  runId: string;
  plan: ExecutionPlan;
  stages: StageRun[];
  executors: Record<string, Executor>;
}): Promise<Record<string, ResumedStage>> {
  const planned = new Map(options.plan.stages.map((stage) => [stage.id, stage]));
  const resume: Record<string, ResumedStage> = {};
  for (const row of options.stages) {
    const stage = planned.get(row.stageId);
    if (!stage) continue;
    if (FINISHED_STAGE.has(row.status)) {
      resume[row.stageId] = {
        state: 'finished',
        result: {
          id: row.stageId,
          name: row.name,
          status: row.status as 'succeeded' | 'failed' | 'skipped' | 'cancelled',
          ...(row.reason === null ? {} : { reason: row.reason }),
          exitCode: row.exitCode,
          attempts: row.startedAt ? row.attempt : 0,
          durationMs: row.startedAt && row.finishedAt ? row.finishedAt.getTime() - row.startedAt.getTime() : 0,
          executor: row.startedAt ? (row.executor ?? stage.executor) : null,
          allowFailure: stage.allowFailure,
        },
      };
      continue;
    }
    if (row.status !== 'running') continue;
    const base = { state: 'running' as const, attempt: row.attempt, ...(row.startedAt ? { startedAt: row.startedAt.getTime() } : {}) };
    const executorName = row.executor ?? executorFor(stage);
    if (executorName === 'docker') {
      const docker = dockerOf(options.executors.docker);
      if (!docker) {
        resume[row.stageId] = { ...base, handle: null, skipLines: 0, retryLost: false, lostReason: 'lost: the worker that resumed this run has no Docker engine to find the stage container on' };
        continue;
      }
      const handle = await recoverDockerHandle(docker, { runId: options.runId, stageId: row.stageId, attempt: row.attempt });
      const skipLines = handle ? await storedExecutorLines(options.prisma, row.id, row.attempt) : 0;
      resume[row.stageId] = { ...base, handle, skipLines, retryLost: true, lostReason: 'lost: the worker running this stage stopped and its container is gone' };
    } else {
      resume[row.stageId] = {
        ...base,
        handle: null,
        skipLines: 0,
        retryLost: false,
        lostReason: `lost: the worker running this stage stopped, and a ${executorName} stage cannot be recovered`,
      };
    }
  }
  return resume;
}

/** A stage of a re-run created `succeeded` by the API (lib/runs/create-run.ts `reuse`): never started in this run. */
function isReusedRow(row: Pick<StageRun, 'status' | 'startedAt'>): boolean {
  return row.status === 'succeeded' && row.startedAt === null;
}

/** How far back a reused stage's artifacts are looked for (a re-run of a re-run of ...). */
const MAX_REUSE_HOPS = 50;

/**
 * A re-run's reused stages (created `succeeded`, never started), at claim time and again on recovery
 * (idempotent):
 * - The artifacts of every reused stage that declares some are copied from the artifact store of the run
 *   it was reused from (`WORKSPACES/OLD_RUN_ID/artifacts/STAGE`; when that run had itself reused the stage,
 *   from the run before, and so on) into this run's store, unless already there. The orchestrator then
 *   restores them for dependents as for stages that ran.
 * - When they are gone (cleaned up, or the old run ran on another host without shared storage) and a
 *   stage that will run needs that stage, the stage is run again instead of being reused: its row goes
 *   back to `pending` (reason says why, cleared when it starts). The check repeats for the needs of the
 *   stages put back, so no stage starts without the artifacts of its needs. A reused stage whose artifacts
 *   are gone but that no running stage needs stays reused (its artifacts are just not downloadable).
 * Only DIRECT needs matter: the orchestrator restores the artifacts of a stage's needs, not of theirs.
 */
async function prepareReusedStages(options: {
  prisma: PrismaClient;
  run: { id: string; rerunOfId: string; stages: StageRun[] };
  plan: ExecutionPlan;
  workspacesRoot: string;
  artifactsDir: string;
}): Promise<{ stages: StageRun[]; reused: Set<string>; runAgain: string[] }> {
  const { prisma, run } = options;
  const planned = new Map(options.plan.stages.map((stage) => [stage.id, stage]));
  const reused = new Set(run.stages.filter(isReusedRow).map((row) => row.stageId));
  if (reused.size === 0) return { stages: run.stages, reused, runAgain: [] };

  const missing = new Set<string>();
  for (const stageId of reused) {
    const stage = planned.get(stageId);
    if (!stage || stage.artifacts.length === 0) continue;
    const target = path.join(options.artifactsDir, stageArtifactDirName(stageId));
    if (await isDirectory(target)) continue; // copied before this worker took the run over
    const source = await findReusedArtifacts(prisma, options.workspacesRoot, run.rerunOfId, stageId);
    if (source === null) {
      missing.add(stageId);
      continue;
    }
    // Into a temporary directory renamed into place, as collectArtifacts does: never half a set.
    const temp = `${target}.tmp-${randomBytes(4).toString('hex')}`;
    try {
      await mkdir(temp, { recursive: true });
      await copyDirContents(source, temp);
      await rename(temp, target);
    } catch {
      await rm(temp, { recursive: true, force: true }).catch(() => {});
      missing.add(stageId);
    }
  }

  // Stages that will start: not finished, not running (a recovered running stage restored its needs already).
  const rows = new Map(run.stages.map((row) => [row.stageId, row]));
  const toStart = run.stages.filter((row) => row.status === 'pending' || row.status === 'queued' || row.status === 'waiting_approval').map((row) => row.stageId);
  const runAgain: string[] = [];
  for (let i = 0; i < toStart.length; i++) {
    for (const need of planned.get(toStart[i]!)?.needs ?? []) {
      if (!reused.has(need) || !missing.has(need)) continue;
      reused.delete(need);
      runAgain.push(need);
      toStart.push(need);
    }
  }
  if (runAgain.length === 0) return { stages: run.stages, reused, runAgain };

  const againIds = runAgain.map((stageId) => rows.get(stageId)!.id);
  const reason = 'runs again: the artifacts of the run it would be reused from are not available to this worker';
  await prisma.stageRun.updateMany({
    where: { id: { in: againIds }, status: 'succeeded', startedAt: null },
    data: { status: 'pending', reason, exitCode: null, finishedAt: null },
  });
  const stages = await prisma.stageRun.findMany({ where: { runId: run.id } });
  return { stages, reused, runAgain };
}

/** The artifact directory of `stageId` in the run it was reused from, following re-runs of re-runs; null when gone. */
async function findReusedArtifacts(prisma: PrismaClient, workspacesRoot: string, fromRunId: string, stageId: string): Promise<string | null> {
  let runId: string | null = fromRunId;
  for (let hop = 0; runId !== null && hop < MAX_REUSE_HOPS; hop++) {
    const candidate = path.join(workspacesRoot, runId, 'artifacts', stageArtifactDirName(stageId));
    if (await isDirectory(candidate)) return candidate;
    // Not there: if that run had reused the stage too, its artifacts came from the run before.
    const row: { status: StageRun['status']; startedAt: Date | null; run: { rerunOfId: string | null } } | null = await prisma.stageRun.findFirst({
      where: { runId, stageId },
      select: { status: true, startedAt: true, run: { select: { rerunOfId: true } } },
    });
    runId = row && isReusedRow(row) ? row.run.rerunOfId : null;
  }
  return null;
}

async function isDirectory(dir: string): Promise<boolean> {
  return (await stat(dir).catch(() => null))?.isDirectory() ?? false;
}

/** Lines of the attempt's own output (stdout/stderr, not BuildIt's system lines) already stored. */
async function storedExecutorLines(prisma: PrismaClient, stageRunId: string, attempt: number): Promise<number> {
  const [row] = await queryRows<{ lines: number }>(
    prisma,
    `SELECT COALESCE(sum(length(replace(streams, 's', ''))), 0)::int AS lines FROM log_chunks WHERE stage_run_id = $1 AND attempt = $2`,
    [stageRunId, attempt],
  );
  return row?.lines ?? 0;
}

/** After an internal error (e.g. the database went away mid-run): the run and its unfinished stages fail. */
async function markRunFailed(prisma: PrismaClient, runId: string, error: unknown): Promise<void> {
  const reason = `internal error: ${error instanceof Error ? error.message : String(error)}`.slice(0, 2000);
  const now = new Date();
  await prisma.$transaction([
    prisma.stageRun.updateMany({
      where: { runId, status: { in: ['pending', 'queued', 'waiting_approval', 'running'] } },
      data: { status: 'failed', reason, finishedAt: now },
    }),
    prisma.pipelineRun.updateMany({ where: { id: runId, status: 'running' }, data: { status: 'failed', finishedAt: now } }),
  ]);
}

function describeReason(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return typeof reason === 'string' ? reason : 'worker shutting down or lease lost';
}

/** The enabled executors; docker's engine is asked only when a stage starts (and says so when it is down). */
function createWorkerExecutors(names: readonly WorkerExecutorName[]): Record<string, Executor> {
  return Object.fromEntries(names.map((name) => [name, createExecutor(name)]));
}

/** Why a stage cannot use an executor this worker does not run: the stage fails with this reason. */
function unavailableReasons(enabled: string[]): Record<string, string> {
  const reasons: Record<string, string> = {
    local:
      'executor "local" is disabled on this worker: it would run the stage as a process on the worker\'s own host, with its files and rights; ' +
      'an operator who accepts that starts the worker with BUILDIT_WORKER_EXECUTORS=docker,local (or give the stage an image)',
    docker: 'executor "docker" is disabled on this worker: start it with BUILDIT_WORKER_EXECUTORS=docker (the default)',
    kubernetes: 'executor "kubernetes" is not available yet: use docker',
  };
  for (const name of enabled) delete reasons[name];
  return reasons;
}

/** The Docker client behind an executor, when it is the docker executor (for recovery by labels). */
export function dockerOf(executor: Executor | undefined): Docker | null {
  return executor instanceof DockerExecutor ? executor.docker : null;
}

/**
 * Wraps an executor so the worker can let go of a run: after `detach()` nothing new starts, the
 * orchestrator's log reads and waits end at once, and — for executors whose work survives the worker
 * (`keepOnDetach`: docker) — cancel and destroy do nothing, so the next worker finds the containers.
 * Executors whose work cannot be recovered (local) have their running attempts cancelled.
 */
class DetachableExecutor implements Executor {
  private detached = false;
  private release: () => void = () => {};
  private readonly released = new Promise<void>((resolve) => (this.release = resolve));
  private readonly live = new Map<string, ExecutorHandle>();
  /** Wakes the log readers waiting for their next line, so they end at once on detach. */
  private readonly logWakers = new Set<() => void>();

  constructor(
    private readonly inner: Executor,
    private readonly keepOnDetach: boolean,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.release();
    for (const wake of this.logWakers) wake();
    if (!this.keepOnDetach) {
      for (const handle of this.live.values()) {
        this.inner
          .cancel(handle)
          .then(() => this.inner.destroy(handle))
          .catch(() => {});
      }
    }
  }

  async spawn(job: StageJob): Promise<ExecutorHandle> {
    if (this.detached) throw new ExecutorError('the worker stopped supervising this run', 'lost');
    const handle = await this.inner.spawn(job);
    this.live.set(handle.id, handle);
    if (this.detached && !this.keepOnDetach) await this.inner.cancel(handle).catch(() => {});
    return handle;
  }

  logs(handle: ExecutorHandle, options?: { skipLines?: number }): AsyncIterable<LogLine> {
    const inner = this.inner.logs(handle, options);
    const wakers = this.logWakers;
    const isDetached = () => this.detached;
    return {
      async *[Symbol.asyncIterator]() {
        const iterator = inner[Symbol.asyncIterator]();
        // One fresh promise per line, woken by detach(). (Racing every line against one long-pending
        // promise would leave a reaction on it per line: 1M lines kept ~350 MB alive.)
        let wake: (() => void) | null = null;
        const waker = () => wake?.();
        wakers.add(waker);
        try {
          while (!isDetached()) {
            const next = await new Promise<IteratorResult<LogLine> | 'detached'>((resolve, reject) => {
              wake = () => resolve('detached');
              iterator.next().then(resolve, reject);
            });
            wake = null;
            if (next === 'detached' || next.done) return;
            yield next.value;
          }
        } finally {
          wakers.delete(waker);
          void Promise.resolve(iterator.return?.()).catch(() => {});
        }
      },
    };
  }

  async wait(handle: ExecutorHandle): Promise<ExitResult> {
    const detachedExit: ExitResult = { exitCode: -1, oomKilled: false, error: 'the worker stopped supervising this stage' };
    if (this.detached) return detachedExit;
    return Promise.race([this.inner.wait(handle), this.released.then(() => detachedExit)]);
  }

  status(handle: ExecutorHandle): Promise<HandleStatus> {
    return this.inner.status(handle);
  }

  async cancel(handle: ExecutorHandle): Promise<void> {
    if (this.detached && this.keepOnDetach) return;
    await this.inner.cancel(handle);
  }

  async destroy(handle: ExecutorHandle): Promise<void> {
    if (this.detached && this.keepOnDetach) return;
    this.live.delete(handle.id);
    await this.inner.destroy(handle);
  }
}
