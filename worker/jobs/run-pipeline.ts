/**
 * The `run` job (payload `{ runId }`, enqueued by the API with the run): executes a PipelineRun's stored
 * plan with the orchestrator, storing every transition and log line through the StoreSink
 * (lib/runs/store-sink.ts) before it is published. The pieces live in ./run/:
 *
 * - A run that is already finished or cancelled (the API cancels queued runs itself) is left alone;
 *   otherwise it is claimed (queued → running, lib/runs/transitions.ts).
 * - Executors: those enabled for this worker (BUILDIT_WORKER_EXECUTORS, default `docker` only; run/executors.ts).
 *   A stage runs on its own `executor`, else in a container (executorFor, the rule `buildit run` uses
 *   too); a stage that needs a disabled executor fails with the reason and how to enable it.
 * - Storage: `$BUILDIT_DATA_DIR/workspaces/RUN_ID/{workspace,artifacts}` and `$BUILDIT_DATA_DIR/caches`.
 *   The workspace starts empty, or, for a pipeline with a repository, with the checkout of the run's commit
 *   made before the first stage (the `@checkout` stage run, run/checkout.ts; docs/source.md), and goes when
 *   the run ends; the artifact store is KEPT, for re-runs that reuse stages (no retention yet).
 * - Re-runs: stages reused from an earlier run are not executed (run/reuse.ts).
 * - Secrets: the tenant's secrets that the plan's stages declare, decrypted (lib/secrets/store.ts) and given to
 *   the orchestrator, which injects into each stage only its own and masks all of them in every log line; a
 *   declared secret the tenant lacks fails that stage, naming it.
 * - Approvals: an `approval` stage waits (`waiting_approval`) for a person's decision stored by the API
 *   (run/approvals.ts; docs/approvals.md); a worker that takes the run over waits again or finds it.
 * - Stacks: a `stack` stage queues a run of the stack and waits for it (run/stacks.ts); its id is stored on the
 *   stage run, so a worker that takes the run over waits for the same stack run.
 * - Cancel: a cancel requested through the API reaches the worker by NOTIFY (lib/runs/cancel-requests.ts)
 *   and stops the run; it ends `cancelled`.
 * - The executor handle (container id, pgid) is stored in StageRun.handleId when an attempt has spawned;
 *   containers carry the labels buildit.run / buildit.stage / buildit.attempt.
 * - ctx.signal (worker shutdown hand-back, lost lease): the handler DETACHES instead of cancelling
 *   (run/detachable.ts): nothing more is written, containers keep running for the next worker to
 *   recover, local processes (which cannot be recovered) are stopped. It then throws (the runner drops
 *   the outcome).
 * - Recovery (the job claimed again after a crash, run status `running`): run/resume.ts.
 * - Concurrency group (`group` in the pipeline): while an older run of its group in the tenant is
 *   unfinished, the run is not claimed: it stays `queued` with `waitingFor`, and its job is deferred
 *   (JobDeferred) so it takes no worker slot (lib/runs/groups.ts).
 * - Stage locks (`lock` in a stage): lib/runs/stage-locks.ts.
 */
import path from 'node:path';
import { z } from 'zod';
import { dataDirFromEnv, publicUrlFromEnv, workerExecutorsFromEnv, type WorkerExecutorName } from '../../lib/config/env';
import type { Executor } from '../../lib/engine/executors/types';
import { runPlan, storageArtifactStore, storageOutputFiles, type ResumedStage, type RunResult } from '../../lib/engine/orchestrator';
import { CacheStore, HostStorage } from '../../lib/engine/workspace';
import type { RunEventPublisher } from '../../lib/events/server-events';
import type { PrismaClient } from '../../lib/generated/prisma/client';
import { createLogger, type Logger } from '../../lib/log';
import { CancelRequests } from '../../lib/runs/cancel-requests';
import { readStoredLogPositions } from '../../lib/runs/log-chunks';
import { StoreSink, type StoreSinkOptions } from '../../lib/runs/store-sink';
import { parseStoredPlan } from '../../lib/runs/stored-plan';
import { readSecretValues } from '../../lib/secrets/store';
import { claimRun, failRunOnInternalError, recordStageHandle } from '../../lib/runs/transitions';
import { DetachableExecutor } from './run/detachable';
import { createWorkerExecutors, unavailableReasons } from './run/executors';
import { prepareResume } from './run/resume';
import { runCheckout } from './run/checkout';
import { CHECKOUT_STAGE_ID } from '../../lib/runs/create-run';
import { prepareReusedStages } from './run/reuse';
import { webApprovals } from './run/approvals';
import { serverStacks } from './run/stacks';
import { GROUP_RECHECK_MS, groupRunAhead } from '../../lib/runs/groups';
import { JobDeferred } from '../../lib/queue/defer';
import { ServerLocks } from '../../lib/runs/stage-locks';

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
  /** Default BUILDIT_DATA_DIR (see lib/config). */
  dataDir?: string;
  /** Executors by name (tests); default: those of `executorNames` on the data dir's storage. */
  executors?: Record<string, Executor>;
  /** Executors this worker runs stages on; default BUILDIT_WORKER_EXECUTORS (docker only). */
  executorNames?: readonly WorkerExecutorName[];
  /** How cancel requests reach this worker (LISTEN, one per worker); default: polling every `cancelPollMs`. */
  cancelRequests?: CancelRequests;
  /** Milliseconds between checks of cancelRequestedAt when nothing listens. Default 1000. */
  cancelPollMs?: number;
  /** Log batching, cap and database retries (defaults: 100 ms, 64 KiB, BUILDIT_LOG_CAP_BYTES or 100 MiB, 1 MiB tail, BUILDIT_DB_RETRY_MS). */
  sink?: Partial<Pick<StoreSinkOptions, 'flushIntervalMs' | 'chunkBytes' | 'logCapBytes' | 'logTailBytes' | 'dbRetryMs'>>;
  concurrency?: number;
  cancelDeadlineMs?: number;
  /** Milliseconds between reads of a waiting stage's approval decision. Default 1000. */
  approvalPollMs?: number;
  /** Milliseconds between reads of the stack run a `stack` stage waits for. Default 1000. */
  stackPollMs?: number;
  /** The web app's address, for the links to stack runs in stage logs. Default BUILDIT_PUBLIC_URL. */
  publicUrl?: string;
  logger?: Logger;
}

export type RunPipelineOutcome =
  | { kind: 'nothing_to_do'; reason: string }
  | { kind: 'ran'; result: RunResult; resumed: boolean }
  /** Not claimed: an older run of its group is unfinished (retry after `delayMs`, or when woken). */
  | { kind: 'waiting'; reason: string; delayMs: number };

/** The worker's files: run workspaces, artifact stores and caches under the data dir. */
export function workerStorage(dataDir: string = dataDirFromEnv()): HostStorage {
  return new HostStorage({ runsRoot: path.join(dataDir, 'workspaces'), cacheRoot: path.join(dataDir, 'caches') });
}

/** The `run` job handler, for the job registry: `run: createRunPipelineHandler(deps)`. Executors are made once per worker. */
export function createRunPipelineHandler(deps: RunPipelineDeps): (job: RunPipelineJob, ctx: RunPipelineContext) => Promise<void> {
  const executors = deps.executors ?? createWorkerExecutors(deps.executorNames ?? workerExecutorsFromEnv(), workerStorage(deps.dataDir));
  const cancelRequests = deps.cancelRequests ?? new CancelRequests({ prisma: deps.prisma, fallbackPollMs: deps.cancelPollMs ?? 1000 });
  return async (job, ctx) => {
    const outcome = await runPipelineJob(job, ctx, { ...deps, executors, cancelRequests });
    if (outcome.kind === 'waiting') throw new JobDeferred(outcome.reason, outcome.delayMs);
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
    include: {
      pipeline: {
        select: { tenantId: true, repository: true, cloneDepth: true, submodules: true, credentialsSecret: true, tenant: { select: { organizationId: true } } },
      },
      stages: true,
    },
  });
  if (!loaded) return { kind: 'nothing_to_do', reason: 'the run no longer exists' };
  const plan = parseStoredPlan(runId, loaded.plan);
  if (plan.group && loaded.status === 'queued') {
    const group = { id: runId, tenantId: loaded.pipeline.tenantId, group: plan.group.name, createdAt: loaded.createdAt };
    const ahead = await groupRunAhead(prisma, group);
    if (ahead) {
      const waitingFor = { group: plan.group.name, runId: ahead.id, runNumber: ahead.number };
      await prisma.pipelineRun.updateMany({ where: { id: runId, status: 'queued' }, data: { waitingFor } });
      log.info({ waitingFor }, 'waiting for an older run of the group; the job goes back to the queue');
      return { kind: 'waiting', reason: `run waits for run #${ahead.number} of group "${plan.group.name}"`, delayMs: GROUP_RECHECK_MS };
    }
  }
  const status = await claimRun(prisma, runId, loaded.status);
  if (status !== 'running') return { kind: 'nothing_to_do', reason: `the run is ${status}` };
  // Claimed again while running: the worker that ran it died (or handed it back).
  const resuming = loaded.status === 'running';

  const stageRunIds = new Map(loaded.stages.map((stage) => [stage.stageId, stage.id]));
  // Stage runs of the plan; `@checkout` (and any other `@` entry) is handled here, not by the orchestrator.
  const planRows = loaded.stages.filter((stage) => !stage.stageId.startsWith('@'));
  const checkoutRow = loaded.stages.find((stage) => stage.stageId === CHECKOUT_STAGE_ID);
  const storage = workerStorage(deps.dataDir);
  const executors = deps.executors ?? createWorkerExecutors(deps.executorNames ?? workerExecutorsFromEnv(), storage);
  const detachable = Object.fromEntries(Object.entries(executors).map(([name, executor]) => [name, new DetachableExecutor(executor)]));

  // A re-run's reused stages: their artifacts copied into this run's store, or run again when gone.
  let stageRows = planRows;
  let reused = new Set<string>();
  if (loaded.rerunOfId) {
    await storage.prepareRun(runId);
    const prepared = await prepareReusedStages({ prisma, run: { id: runId, rerunOfId: loaded.rerunOfId, stages: planRows }, plan, storage });
    stageRows = prepared.stages;
    reused = prepared.reused;
    if (reused.size > 0 || prepared.runAgain.length > 0)
      log.info({ reused: [...reused], runAgain: prepared.runAgain }, 're-run: reusing stages of an earlier run');
  }

  let resume: Record<string, ResumedStage> | undefined;
  let storedLogs: StoreSinkOptions['storedLogs'];
  if (resuming) {
    storedLogs = await readStoredLogPositions(prisma, runId);
    resume = await prepareResume({ prisma, runId, plan, stages: stageRows, executors });
    log.info({ resumed: Object.keys(resume ?? {}) }, 'resuming a run whose worker stopped');
  } else if (reused.size > 0) {
    // Reused stages are finished from the start: the orchestrator keeps their result without running them.
    const finished = await prepareResume({ prisma, runId, plan, stages: stageRows.filter((row) => reused.has(row.stageId)), executors });
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
    // is detached), containers and the workspace are left alone, and no further stage starts.
    cancel.abort();
    onDetach(new Error(`run ${runId}: this worker stopped supervising the run (${describeReason(ctx.signal.reason)}); the next worker resumes it`));
  };
  ctx.signal.addEventListener('abort', detach, { once: true });
  const cancelRequests = deps.cancelRequests ?? new CancelRequests({ prisma, fallbackPollMs: deps.cancelPollMs ?? 1000, log });
  const cancelWatch = cancelRequests.watch(runId, () => cancel.abort());

  try {
    await cancelWatch.checked;
    if (ctx.signal.aborted) detach();
    const declared = plan.stages.filter((stage) => stage.skip === null).flatMap((stage) => stage.secrets);
    const secrets = await readSecretValues(prisma, loaded.pipeline.tenantId, declared, { dataDir: deps.dataDir });
    const { repository } = loaded.pipeline;
    if (checkoutRow && checkoutRow.status !== 'succeeded' && repository !== null) {
      const checkout = runCheckout({
        prisma,
        sink,
        runId,
        plan,
        finishedStages: new Set([...reused, ...Object.entries(resume ?? {}).flatMap(([id, entry]) => (entry.state === 'finished' ? [id] : []))]),
        storage,
        dataDir: deps.dataDir ?? dataDirFromEnv(),
        pipeline: { ...loaded.pipeline, repository },
        run: loaded,
        secrets,
        signal: cancel.signal,
      });
      checkout.catch(() => {});
      const outcome = await Promise.race([checkout, detachedPromise]);
      if (outcome.kind === 'failed') {
        await sink.close();
        return { kind: 'ran', result: outcome.result, resumed: resuming };
      }
    }
    const orchestration = runPlan({
      plan,
      runId,
      executors: detachable,
      unavailableExecutors: unavailableReasons(Object.keys(executors)),
      sink,
      artifacts: storageArtifactStore(storage, runId),
      cacheStore: new CacheStore(storage.cacheRoot),
      outputFiles: storageOutputFiles(storage, runId),
      secrets,
      approvals: webApprovals({
        prisma,
        stageRunIds,
        signal: cancel.signal,
        log,
        ...(deps.approvalPollMs !== undefined ? { pollMs: deps.approvalPollMs } : {}),
      }),
      stacks: serverStacks({
        prisma,
        run: { id: runId, tenantId: loaded.pipeline.tenantId, organizationId: loaded.pipeline.tenant.organizationId, triggeredById: loaded.triggeredById },
        stageRunIds,
        detached: () => detached,
        publicUrl: deps.publicUrl ?? publicUrlFromEnv().href,
        log,
        ...(deps.stackPollMs !== undefined ? { pollMs: deps.stackPollMs } : {}),
      }),
      locks: new ServerLocks({ prisma, tenantId: loaded.pipeline.tenantId, stageRunIds }),
      signal: cancel.signal,
      labels: { 'buildit.origin': 'server' },
      ...(deps.concurrency !== undefined ? { concurrency: deps.concurrency } : {}),
      ...(deps.cancelDeadlineMs !== undefined ? { cancelDeadlineMs: deps.cancelDeadlineMs } : {}),
      ...(resume ? { resume } : {}),
      onSpawned: async ({ stageId, handle }) => {
        const id = stageRunIds.get(stageId);
        if (id && !detached) await recordStageHandle(prisma, id, handle.id);
      },
    });
    orchestration.catch(() => {});
    const result = await Promise.race([orchestration, detachedPromise]);
    await sink.close();
    return { kind: 'ran', result, resumed: resuming };
  } catch (error) {
    if (!detached)
      await failRunOnInternalError(prisma, runId, error).catch((markError: unknown) => log.error({ err: markError }, 'could not mark the run failed'));
    throw error;
  } finally {
    cancelWatch.stop();
    ctx.signal.removeEventListener('abort', detach);
  }
}

function describeReason(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return typeof reason === 'string' ? reason : 'worker shutting down or lease lost';
}
