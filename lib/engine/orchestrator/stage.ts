/**
 * Everything that happens to one stage once it has a slot: attempt 1 starts, its secrets, artifacts
 * and caches are prepared, attempts run until one succeeds or `retry` is used up, then artifacts are
 * collected and caches saved. Returns the stage's final result; `stage.finished` is emitted by the
 * scheduler (run-plan.ts), which owns the stage's state.
 */
import type { LogStream } from '../../events/types';
import type { PlannedStage } from '../../pipeline/plan-types';
import type { Masker } from '../../secrets/mask';
import type { Executor, StageJob } from '../executors/types';
import { messageOf } from '../../errors';
import { runAttempt, type AttemptOutcome } from './attempt';
import type { EventStream } from './events';
import { executorFor } from './executor-choice';
import { resolveSecretEnv } from './secrets';
import { parseOutputFile } from './outputs';
import type {
  ArtifactStore,
  CacheProvider,
  OutputFileProvider,
  PreparedCache,
  PreparedOutputFile,
  ResumedRunningStage,
  SpawnedAttempt,
  StackStageRunner,
  StageResult,
} from './types';

/** What a stage run needs from its run (shared by all stages). */
export interface StageContext {
  runId: string;
  executors: Record<string, Executor>;
  defaultExecutor: string;
  /** Why an executor a stage names is not in `executors` (e.g. disabled on this worker), by name. */
  unavailableExecutors: Record<string, string>;
  secrets: Record<string, string>;
  labels: Record<string, string>;
  artifacts?: ArtifactStore;
  cacheStore?: CacheProvider;
  outputFiles?: OutputFileProvider;
  events: EventStream;
  mask: Masker;
  now: () => number;
  cancelDeadlineMs: number;
  onSpawned?: (spawned: SpawnedAttempt) => void | Promise<void>;
  stacks?: StackStageRunner;
}

/** Thrown by the preparation steps: fails the stage with this reason, no retry. */
class StageSetupError extends Error {}

export async function executeStage(
  ctx: StageContext,
  stage: PlannedStage,
  /** Needs whose artifacts should be restored (those that succeeded). */
  artifactSources: string[],
  signal: AbortSignal,
  /** Crash recovery: continue this attempt (see RunPlanOptions.resume) instead of starting attempt 1. */
  resumed?: ResumedRunningStage,
  /** Logged as the stage's first line (why it runs in a stopped run). */
  notice?: string,
): Promise<StageResult> {
  const executorName = executorFor(stage, ctx.defaultExecutor);
  const { log, result } = await startReporting(ctx, stage, executorName, resumed, notice);
  const caches: PreparedCache[] = [];
  let attempt = resumed?.attempt ?? 1;
  try {
    const executor = ctx.executors[executorName];
    if (!executor) {
      throw new StageSetupError(
        ctx.unavailableExecutors[executorName] ??
          `executor "${executorName}" is not available in this run (available: ${Object.keys(ctx.executors).join(', ') || 'none'})`,
      );
    }
    const secretEnv = resolveSecretEnv(stage, ctx.secrets);
    if (!secretEnv.ok) throw new StageSetupError(secretEnv.reason);
    await setupStep('restoring artifacts', async () => {
      if (ctx.artifacts && artifactSources.length > 0 && !resumed) await ctx.artifacts.restore(artifactSources);
    });
    await setupStep('preparing caches', async () => {
      const store = ctx.cacheStore;
      // A resumed attempt's caches were prepared by the stopped worker (they cannot be saved any more).
      if (!store || resumed) return;
      for (const cache of stage.caches) {
        const prepared = await store.prepare({ key: cache.key, paths: cache.paths, executor: executorName });
        caches.push(prepared);
        if (prepared.hit !== undefined)
          await log('system', `cache "${cache.name}" (key ${cache.key}): ${prepared.hit ? 'restored' : 'empty, saved after success'}`);
      }
    });

    const outputFile = await setupStep('preparing the output file', async () => {
      if (!stage.outputs) return null;
      if (!ctx.outputFiles) throw new Error('this run cannot keep stage outputs');
      return ctx.outputFiles.prepare({ stageId: stage.id, executor: executorName });
    });
    const outputEnv: Record<string, string> = outputFile ? { BUILDIT_OUTPUT: outputFile.path } : {};

    const baseJob: Omit<StageJob, 'attempt' | 'env' | 'labels'> = {
      runId: ctx.runId,
      stageId: stage.id,
      image: stage.image,
      commands: stage.commands,
      services: stage.services.map((service) => ({ ...service })),
      mounts: caches.flatMap((cache) => cache.mounts),
    };
    const maxAttempts = stage.retry + 1;
    for (; ; attempt++) {
      const resuming = resumed !== undefined && attempt === resumed.attempt;
      if (resuming && !resumed.handle) {
        const lost: AttemptOutcome = {
          status: 'failed',
          exitCode: null,
          reason: resumed.lostReason ?? 'lost: the worker running this stage stopped and its work is gone',
        };
        await log('system', lost.reason!);
        if (!resumed.retryLost || attempt >= maxAttempts || signal.aborted) return result(attempt, lost);
        await log('system', `attempt ${attempt} of ${maxAttempts} failed (${lost.reason}); retrying`);
        continue;
      }
      if (attempt > 1 && !resuming) await ctx.events.emit({ type: 'stage.started', stage: stage.id, attempt, executor: executorName });
      const outcome = await runAttempt({
        executor,
        job: { ...baseJob, attempt, env: { ...jobEnv(ctx, stage, attempt, secretEnv.env), ...outputEnv }, labels: jobLabels(ctx, stage, attempt) },
        timeoutMs: stage.timeoutMs,
        signal,
        cancelDeadlineMs: ctx.cancelDeadlineMs,
        log,
        ...(resuming ? { resume: { handle: resumed.handle!, skipLines: resumed.skipLines } } : {}),
        ...(ctx.onSpawned ? { onSpawned: (handle) => ctx.onSpawned!({ stageId: stage.id, attempt, handle }) } : {}),
      });
      // Only a failed attempt is retried; a cancelled one (or one failed by a cancel) is final.
      if (outcome.status !== 'failed' || attempt >= maxAttempts || signal.aborted) {
        if (outcome.status !== 'succeeded') return result(attempt, outcome);
        await finishSucceeded(ctx, stage, caches);
        const outputs = outputFile ? await readOutputs(outputFile, stage, log) : undefined;
        return { ...result(attempt, outcome), ...(outputs ? { outputs: maskValues(outputs, ctx.mask) } : {}) };
      }
      await log('system', `attempt ${attempt} of ${maxAttempts} failed (${outcome.reason}); retrying`);
    }
  } catch (error) {
    const reason = error instanceof StageSetupError ? error.message : `internal error: ${messageOf(error)}`;
    await log('system', reason).catch(() => {});
    return result(attempt, { status: signal.aborted ? 'cancelled' : 'failed', exitCode: null, reason });
  } finally {
    await Promise.all(caches.map((cache) => cache.release().catch(() => {})));
  }
}

/**
 * A stage's log (numbered, masked) and result, once it has started: `stage.started` is emitted here, except
 * for a resumed attempt, already reported started (and prepared) by the worker that began it.
 */
export async function startReporting(
  ctx: StageContext,
  stage: PlannedStage,
  executorName: string,
  resumed: ResumedRunningStage | undefined,
  notice: string | undefined,
): Promise<{ log: (stream: LogStream, line: string) => Promise<void>; result: (attempts: number, outcome: AttemptOutcome) => StageResult }> {
  const startedAt = resumed?.startedAt ?? ctx.now();
  let seq = 0;
  const log = (stream: LogStream, line: string): Promise<void> =>
    ctx.events.emit({ type: 'stage.log', stage: stage.id, stream, line: ctx.mask(line), seq: ++seq });
  const result = (attempts: number, outcome: AttemptOutcome): StageResult => ({
    id: stage.id,
    name: stage.name,
    status: outcome.status,
    ...(outcome.reason === undefined ? {} : { reason: ctx.mask(outcome.reason) }),
    exitCode: outcome.exitCode,
    attempts,
    durationMs: ctx.now() - startedAt,
    executor: executorName,
    allowFailure: stage.allowFailure,
  });
  if (!resumed) await ctx.events.emit({ type: 'stage.started', stage: stage.id, attempt: 1, executor: executorName });
  if (notice) await log('system', notice);
  return { log, result };
}

async function setupStep<T>(what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw new StageSetupError(`${what} failed: ${messageOf(error)}`);
  }
}

/** After success: artifacts for dependents, caches for the next run. A failure here fails the stage. */
async function finishSucceeded(ctx: StageContext, stage: PlannedStage, caches: PreparedCache[]): Promise<void> {
  await setupStep('collecting artifacts', async () => {
    if (ctx.artifacts && stage.artifacts.length > 0) await ctx.artifacts.collect(stage.id, stage.artifacts);
  });
  await setupStep('saving caches', async () => {
    for (const cache of caches) await cache.save();
  });
}

/** The declared outputs the stage wrote; a malformed file fails the stage. */
async function readOutputs(
  file: PreparedOutputFile,
  stage: PlannedStage,
  log: (stream: LogStream, line: string) => Promise<void>,
): Promise<Record<string, string>> {
  const text = await setupStep('reading the outputs', () => file.read());
  const parsed = parseOutputFile(text, stage.outputs ?? []);
  if ('error' in parsed) throw new StageSetupError(parsed.error);
  if (parsed.undeclared.length > 0) await log('system', `ignored outputs the stage does not declare: ${parsed.undeclared.join(', ')}`);
  return parsed.outputs;
}

/** Outputs are shown by the API and logged by the CLI: a secret that ends up in one is masked like in logs. */
function maskValues(outputs: Record<string, string>, mask: Masker): Record<string, string> {
  return Object.fromEntries(Object.entries(outputs).map(([name, value]) => [name, mask(value)]));
}

/**
 * `CI` and `BUILDIT` first, so the pipeline may override them; secrets after the env, so it cannot
 * shadow them; the `BUILDIT_*` variables last, so nothing can spoof them (validation reserves the prefix).
 */
function jobEnv(ctx: StageContext, stage: PlannedStage, attempt: number, secretEnv: Record<string, string>): Record<string, string> {
  return {
    CI: 'true',
    BUILDIT: 'true',
    ...stage.env,
    ...secretEnv,
    BUILDIT_RUN_ID: ctx.runId,
    BUILDIT_STAGE: stage.id,
    BUILDIT_ATTEMPT: String(attempt),
  };
}

function jobLabels(ctx: StageContext, stage: PlannedStage, attempt: number): Record<string, string> {
  return { ...ctx.labels, 'buildit.run': ctx.runId, 'buildit.stage': stage.id, 'buildit.attempt': String(attempt) };
}
