/**
 * The orchestrator: runs an ExecutionPlan on executors and reports everything as events.
 * It is the same in `buildit run` and in the worker; only the sink and the executors differ.
 *
 * Each stage has exactly one typed state (StageState) and moves forward only:
 *
 *   pending ──needs ok──▶ [waiting_approval ──approved──▶] queued ──slot free──▶ running ──▶ finished
 *      │                        │ denied                     │                      │
 *      └── skip / need failed / run stopped ──────────────────┴──────────────────────┴──▶ finished
 *
 * Policies (documented in docs/cli-run.md):
 * - A stage starts when every need has succeeded, or failed with `allow-failure` (as GitLab does:
 *   an allowed failure does not block the pipeline, so its dependents run).
 * - A stage of a kind the engine does not run yet (build, deploy) fails without starting.
 * - A `stack` stage queues a stack run through `stacks` and waits for it (stack-stage.ts); it holds no
 *   executor, so it does not count against `concurrency`.
 * - A need that failed, was skipped or cancelled skips the stage, with the reason; independent
 *   branches go on. With failFast, the first failure stops the whole run instead.
 * - `when needs.STAGE.outputs.NAME="..."` is tested once the needs are done (and judged): when no such
 *   alternative holds, the stage is skipped with the reason, as a `when` skip at planning would be.
 * - `when status="always"` stages wait for all their needs to finish, whatever the outcome;
 *   `when status="failure"` ones too, and run only when a need failed (or was skipped or cancelled
 *   because something further up failed), as GitHub's `failure()` does.
 * - A matrix's `max-parallel` caps how many of its combinations run at once; with `fail-fast`, the first
 *   failed combination cancels the others (running or not started), with the reason.
 * - Stopping the run (below) does not cancel `always` stages: they still start once their needs are
 *   done (or keep running), until the grace period (`alwaysGraceMs`) after the stop, and log that they do.
 * - Stopping the run (cancel, fail-fast, pipeline timeout) cancels running stages and marks every
 *   stage that has not started `cancelled`: none of them starts afterwards.
 * - A stage with `lock` takes its lock (locks.ts) once it has its slot, before `stage.started`: it keeps
 *   the slot while it waits (`stage.waiting_lock`), and releases the lock after `stage.finished`.
 * - Run outcome: `cancelled` if cancelled; `failed` on fail-fast, pipeline timeout or any failed
 *   stage without allow-failure; otherwise `succeeded` (skipped stages do not fail a run).
 */
import os from 'node:os';
import type { StageOutcome } from '../../events/types';
import type { PlannedStage } from '../../pipeline/plan-types';
import type { Executor } from '../executors/types';
import { UNSUPPORTED_KINDS, unsupportedKindReason } from '../../pipeline/validate';
import { outputWhenSkipReason } from '../../pipeline/conditions';
import { createMasker } from '../../secrets/mask';
import { messageOf } from '../../errors';
import type { StopRequest } from './attempt';
import { formatDuration } from './duration';
import { EventStream } from './events';
import { DEFAULT_EXECUTOR, executorFor, UNBUILT_EXECUTORS } from './executor-choice';
import { restoreEachOnce } from './shared-workspace';
import { envWithOutputs } from './outputs';
import { executeStage, type StageContext } from './stage';
import { executeStackStage } from './stack-stage';
import { RunLocks, type HeldLock, type StageLocks } from './locks';
import type { ApprovalDecision, ResumedRunningStage, RunPlanOptions, RunResult, StageResult } from './types';

/** How long `always` stages still run after a run stopped (cancel, fail-fast, pipeline timeout). */
export const DEFAULT_ALWAYS_GRACE_MS = 60_000;

type StageState =
  | { phase: 'pending' }
  | { phase: 'waiting_approval' }
  | { phase: 'queued' }
  | { phase: 'running'; stop: AbortController }
  | { phase: 'finished'; result: StageResult };

/** Why the whole run stopped early: decides the run's outcome and the reasons given to stages. */
interface RunStop {
  outcome: 'cancelled' | 'failed';
  /** For the run and for stages that were running. */
  reason: string;
}

export async function runPlan(options: RunPlanOptions): Promise<RunResult> {
  return new PlanRun(options).execute();
}

class PlanRun {
  private readonly stages: PlannedStage[];
  private readonly byId: Map<string, PlannedStage>;
  private readonly states = new Map<string, StageState>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly events: EventStream;
  private readonly stageContext: StageContext;
  private readonly now: () => number;
  private readonly concurrency: number;
  /** Aborted when the run stops; approval waits race against it. */
  private readonly stopped = new AbortController();
  private stop: RunStop | null = null;
  /** When `always` stages stop getting time after a run stopped (ms, `now()` clock). */
  private graceDeadline = 0;
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();
  private readonly locks: StageLocks;

  constructor(private readonly options: RunPlanOptions) {
    this.stages = options.plan.stages;
    this.byId = new Map(this.stages.map((stage) => [stage.id, stage]));
    for (const stage of this.stages) {
      const resumed = options.resume?.[stage.id];
      this.states.set(stage.id, resumed?.state === 'finished' ? { phase: 'finished', result: resumed.result } : { phase: 'pending' });
    }
    this.now = options.now ?? Date.now;
    this.locks = options.locks ?? new RunLocks(options.runId);
    this.events = new EventStream(options.sink, options.runId, this.now);
    this.concurrency = Math.max(1, options.plan.concurrency ?? options.concurrency ?? os.availableParallelism());
    const secrets = options.secrets ?? {};
    this.stageContext = {
      runId: options.runId,
      executors: options.executors,
      defaultExecutor: options.defaultExecutor ?? DEFAULT_EXECUTOR,
      unavailableExecutors: { ...UNBUILT_EXECUTORS, ...options.unavailableExecutors },
      secrets,
      labels: options.labels ?? {},
      artifacts: options.artifacts && restoreEachOnce(options.artifacts),
      cacheStore: options.cacheStore,
      ...(options.outputFiles ? { outputFiles: options.outputFiles } : {}),
      events: this.events,
      mask: createMasker(Object.values(secrets)),
      now: this.now,
      cancelDeadlineMs: options.cancelDeadlineMs ?? 4000,
      ...(options.onSpawned ? { onSpawned: options.onSpawned } : {}),
      ...(options.stacks ? { stacks: options.stacks } : {}),
    };
  }

  async execute(): Promise<RunResult> {
    const startedAt = this.now();
    const { plan } = this.options;
    await this.events.emit({
      type: 'run.started',
      pipeline: plan.pipeline,
      stages: this.stages.map((stage) => ({ id: stage.id, name: stage.name, needs: [...stage.needs] })),
    });
    const detach = this.watchStopSignals();
    const setUp = await this.setUpRun();
    try {
      // Crash recovery: attempts that were running go on first, on the handles found again.
      for (const stage of this.stages) {
        const resumed = this.options.resume?.[stage.id];
        if (resumed?.state === 'running' && this.phaseOf(stage.id) === 'pending') this.start(stage, resumed);
      }
      while (true) {
        await this.advance();
        if (this.inflight.size === 0) break;
        await Promise.race(this.inflight);
      }
    } catch (error) {
      // A bug or a failing sink: never leave stages running unsupervised. Stop them, wait for their
      // cleanup (their own errors no longer matter), then report the original error.
      this.requestStop({ outcome: 'failed', reason: `internal error: ${messageOf(error)}` });
      while (this.inflight.size > 0) await Promise.allSettled(this.inflight);
      throw error;
    } finally {
      detach();
      await Promise.all(setUp.map((executor) => executor.teardownRun(this.options.runId).catch(() => {})));
    }
    const result: RunResult = {
      status: this.outcome(),
      ...(this.stop ? { reason: this.stop.reason } : {}),
      durationMs: this.now() - startedAt,
      stages: this.stages.map((stage) => this.resultOf(stage.id)!),
    };
    await this.events.emit({ type: 'run.finished', status: result.status, durationMs: result.durationMs });
    return result;
  }

  /**
   * Sets the run up on every executor its stages use (the workspace is the executor's), before any
   * stage starts; a failure stops the run with the reason. Returns the executors to tear down after.
   */
  private async setUpRun(): Promise<Executor[]> {
    const { executors, runId } = this.options;
    const names = new Set(this.stages.filter((stage) => stage.kind === 'run').map((stage) => executorFor(stage, this.stageContext.defaultExecutor)));
    const setUp: Executor[] = [];
    for (const name of names) {
      const executor = executors[name];
      if (!executor) continue; // its stages fail with the reason (stage.ts)
      try {
        await executor.setupRun({ runId });
        setUp.push(executor);
      } catch (error) {
        this.requestStop({ outcome: 'failed', reason: `could not set the run up on the ${name} executor: ${messageOf(error)}` });
      }
    }
    return setUp;
  }

  /** Cancel (AbortSignal) and the pipeline timeout both stop the run; returns a function that detaches them. */
  private watchStopSignals(): () => void {
    const { signal, plan } = this.options;
    const onAbort = (): void => this.requestStop({ outcome: 'cancelled', reason: 'run cancelled' });
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    const timer =
      plan.timeoutMs === null
        ? undefined
        : setTimeout(() => this.requestStop({ outcome: 'failed', reason: `pipeline timed out after ${formatDuration(plan.timeoutMs!)}` }), plan.timeoutMs);
    return () => {
      signal?.removeEventListener('abort', onAbort);
      clearTimeout(timer);
    };
  }

  /**
   * The first stop wins. Running stages are cancelled now, `always` stages when their grace period
   * ends; the others are finished by advance().
   */
  private requestStop(stop: RunStop): void {
    if (this.stop) return;
    this.stop = stop;
    this.graceDeadline = this.now() + this.alwaysGraceMs;
    this.stopped.abort();
    const request: StopRequest = { status: 'cancelled', reason: stop.reason };
    for (const stage of this.stages) {
      const state = this.states.get(stage.id)!;
      if (state.phase !== 'running') continue;
      if (stage.runOn === 'always') this.endGraceLater(stage.id, state.stop);
      else state.stop.abort(request);
    }
  }

  private get alwaysGraceMs(): number {
    return this.options.alwaysGraceMs ?? DEFAULT_ALWAYS_GRACE_MS;
  }

  /** A stopped run's `always` stage is cancelled when the grace period ends. */
  private endGraceLater(stageId: string, stop: AbortController): void {
    const reason = `${this.stop!.reason}, and the grace period of \`always\` stages (${formatDuration(this.alwaysGraceMs)}) ran out`;
    const timer = setTimeout(() => stop.abort({ status: 'cancelled', reason } satisfies StopRequest), Math.max(0, this.graceDeadline - this.now()));
    this.graceTimers.set(stageId, timer);
  }

  /** The stage's matrix already runs `max-parallel` of its combinations. */
  private matrixFull(stage: PlannedStage): boolean {
    const max = stage.matrixLimits?.maxParallel;
    if (max === undefined) return false;
    let running = 0;
    for (const other of this.stages) if (other.name === stage.name && this.phaseOf(other.id) === 'running') running++;
    return running >= max;
  }

  /** `fail-fast`: a failed combination cancels the other combinations of its matrix. */
  private async failFastMatrix(failed: PlannedStage): Promise<void> {
    const reason = `cancelled: combination "${failed.id}" failed (fail-fast)`;
    for (const other of this.stages) {
      if (other.name !== failed.name || other.id === failed.id) continue;
      const state = this.states.get(other.id)!;
      if (state.phase === 'running') state.stop.abort({ status: 'cancelled', reason } satisfies StopRequest);
      else if (state.phase !== 'finished') await this.finishUnstarted(other, 'cancelled', reason);
    }
  }

  /** In a stopped run, only `always` stages (without approval) still start. */
  private runsAfterStop(stage: PlannedStage): boolean {
    return stage.runOn === 'always' && !stage.approval;
  }

  /**
   * Moves every stage as far as it can go right now. Plans are in topological order, so one pass
   * normally settles everything (a skip cascades down within the pass); the pass repeats until
   * nothing changes, so an unsorted plan cannot leave a stage pending forever.
   */
  private async advance(): Promise<void> {
    while (await this.settlePending()) {
      // another pass: something moved
    }
    for (const stage of this.stages) {
      if (this.phaseOf(stage.id) !== 'queued' || (this.stop && !this.runsAfterStop(stage))) continue;
      if (stage.kind !== 'stack' && this.runningCount() >= this.concurrency) continue;
      if (this.matrixFull(stage)) continue;
      this.start(stage);
    }
  }

  /** One pass over the stages that have not started; true when any of them moved. */
  private async settlePending(): Promise<boolean> {
    const { plan } = this.options;
    let moved = false;
    for (const stage of this.stages) {
      const phase = this.phaseOf(stage.id);
      if (!plan.triggered && phase === 'pending') {
        await this.finishUnstarted(stage, 'skipped', plan.notTriggeredReason ?? 'the pipeline is not triggered by this event');
      } else if (this.stop && !this.runsAfterStop(stage) && (phase === 'pending' || phase === 'queued' || phase === 'waiting_approval')) {
        await this.finishUnstarted(stage, 'cancelled', `not started: ${this.stop.reason}`);
      } else if (phase === 'pending') {
        const readiness = this.readiness(stage);
        if (readiness.kind === 'waiting') continue;
        if (readiness.kind === 'blocked') await this.finishUnstarted(stage, 'skipped', readiness.reason);
        // A deploy that did nothing must never report success: a kind the engine cannot run yet fails.
        else if (UNSUPPORTED_KINDS.has(stage.kind)) await this.finishUnstarted(stage, 'failed', unsupportedKindReason(stage.kind));
        else if (stage.approval) await this.askApproval(stage);
        else await this.enqueue(stage);
      } else {
        continue;
      }
      moved = true;
    }
    return moved;
  }

  private readiness(stage: PlannedStage): { kind: 'ready' } | { kind: 'waiting' } | { kind: 'blocked'; reason: string } {
    if (stage.skip) return { kind: 'blocked', reason: stage.skip.reason };
    let waiting = false;
    let blocked: string | null = null;
    for (const need of stage.needs) {
      if (!this.byId.has(need)) blocked ??= `needs "${need}", which is not in this run`;
      else {
        const result = this.resultOf(need);
        if (!result) waiting = true;
        else if (!needSatisfied(result)) blocked ??= `needs "${need}" ${needVerb(result.status)}`;
      }
      // The default judges each need as it finishes; `failure` and `always` see all of them first.
      if (stage.runOn === undefined && blocked !== null) return { kind: 'blocked', reason: blocked };
    }
    if (waiting) return { kind: 'waiting' };
    if (stage.runOn === 'failure' && !stage.needs.some((need) => this.failedUpstream(need))) {
      return { kind: 'blocked', reason: 'when status="failure": nothing it needs failed' };
    }
    if (stage.outputWhen) {
      const reason = outputWhenSkipReason(stage.outputWhen, (need, output) => this.resultOf(need)?.outputs?.[output] ?? '');
      if (reason !== null) return { kind: 'blocked', reason };
    }
    return { kind: 'ready' };
  }

  /** The stage failed, or did not run because something it needs failed (further up). */
  private failedUpstream(id: string): boolean {
    const result = this.resultOf(id);
    if (!result || result.status === 'succeeded') return false;
    if (result.status === 'failed') return !result.allowFailure;
    return (this.byId.get(id)?.needs ?? []).some((need) => this.failedUpstream(need));
  }

  private async enqueue(stage: PlannedStage): Promise<void> {
    this.states.set(stage.id, { phase: 'queued' });
    await this.events.emit({ type: 'stage.queued', stage: stage.id });
  }

  /** Approval can take minutes; it runs as an in-flight task that a stop interrupts. */
  private async askApproval(stage: PlannedStage): Promise<void> {
    this.states.set(stage.id, { phase: 'waiting_approval' });
    // Emitted before asking: whoever answers (a person in the web app) sees the stage waiting first.
    await this.events.emit({ type: 'stage.waiting_approval', stage: stage.id });
    const ask = this.options.approvals;
    const decision: Promise<ApprovalDecision> = ask
      ? Promise.resolve().then(() => ask(stage.id))
      : Promise.resolve({ approved: false, reason: 'approval required, and nobody can approve stages in this run' });
    const interrupted = new Promise<'stopped'>((resolve) => {
      if (this.stopped.signal.aborted) resolve('stopped');
      this.stopped.signal.addEventListener('abort', () => resolve('stopped'), { once: true });
    });
    this.track(
      Promise.race([decision, interrupted])
        .catch((error: unknown) => ({ approved: false, reason: `approval failed: ${messageOf(error)}` }))
        .then(async (answer) => {
          if (answer === 'stopped' || this.phaseOf(stage.id) !== 'waiting_approval') return; // advance() cancels it
          const { approved, reason } = typeof answer === 'boolean' ? { approved: answer, reason: undefined } : answer;
          if (approved) await this.enqueue(stage);
          else await this.finishUnstarted(stage, 'skipped', reason ?? 'approval denied');
        }),
    );
  }

  private start(stage: PlannedStage, resumed?: ResumedRunningStage): void {
    const stop = new AbortController();
    this.states.set(stage.id, { phase: 'running', stop });
    // A resumed attempt's work is already running: a run stopped before it was taken over stops it too.
    if (resumed && this.stop) stop.abort({ status: 'cancelled', reason: this.stop.reason } satisfies StopRequest);
    const artifactSources = stage.needs.filter((need) => this.resultOf(need)?.status === 'succeeded');
    let notice: string | undefined;
    if (this.stop && stage.runOn === 'always') {
      notice = `the run stopped (${this.stop.reason}); this stage runs anyway (when status="always"), within a grace period of ${formatDuration(this.alwaysGraceMs)}`;
      this.endGraceLater(stage.id, stop);
    }
    const withOutputs = envWithOutputs(stage, (id) => this.resultOf(id));
    this.track(
      this.withLock(stage, stop, resumed).then(async (held) => {
        if (held === null) return;
        try {
          const execution =
            stage.kind === 'stack'
              ? executeStackStage(this.stageContext, stage, stop.signal, resumed, notice)
              : executeStage(this.stageContext, withOutputs, artifactSources, stop.signal, resumed, notice);
          await this.finish(await execution);
        } finally {
          // A release that fails is harmless: a finished stage holds nothing (ServerLocks counts unfinished ones).
          await held?.release().catch(() => {});
        }
      }),
    );
  }

  /**
   * The stage's lock, taken before it starts (so no two holders' started..finished times overlap): the
   * stage keeps its slot while it waits. Null when it must not run (the run stopped while it waited; it
   * is finished here); undefined when it has no lock. A resumed stage that lost its lock while its
   * worker was gone is stopped at once and fails, with the reason.
   */
  private async withLock(stage: PlannedStage, stop: AbortController, resumed?: ResumedRunningStage): Promise<HeldLock | undefined | null> {
    if (stage.lock === undefined) return undefined;
    const request = { stageId: stage.id, lock: stage.lock };
    if (resumed) {
      const held = this.locks.resume ? await this.locks.resume(request) : undefined;
      if (held && 'lost' in held) {
        stop.abort({ status: 'failed', reason: held.lost } satisfies StopRequest);
        return undefined;
      }
      return held;
    }
    try {
      return await this.locks.acquire(request, stop.signal, (holder) =>
        this.events.emit({ type: 'stage.waiting_lock', stage: stage.id, lock: stage.lock!, holder }),
      );
    } catch (error) {
      const reason = stop.signal.aborted ? stopReason(stop.signal.reason) : `could not take lock "${stage.lock}": ${messageOf(error)}`;
      await this.finishUnstarted(stage, stop.signal.aborted ? 'cancelled' : 'failed', reason);
      return null;
    }
  }

  private track(task: Promise<void>): void {
    const tracked = task.finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }

  private async finishUnstarted(stage: PlannedStage, status: 'skipped' | 'cancelled' | 'failed', reason: string): Promise<void> {
    await this.finish({
      id: stage.id,
      name: stage.name,
      status,
      reason,
      exitCode: null,
      attempts: 0,
      durationMs: 0,
      executor: null,
      allowFailure: stage.allowFailure,
    });
  }

  private async finish(result: StageResult): Promise<void> {
    clearTimeout(this.graceTimers.get(result.id));
    this.graceTimers.delete(result.id);
    this.states.set(result.id, { phase: 'finished', result });
    await this.events.emit({
      type: 'stage.finished',
      stage: result.id,
      status: result.status,
      exitCode: result.exitCode,
      attempt: result.attempts,
      durationMs: result.durationMs,
      ...(result.reason === undefined ? {} : { reason: result.reason }),
      ...(result.outputs === undefined ? {} : { outputs: result.outputs }),
    });
    if (result.status === 'failed' && !result.allowFailure && this.options.failFast) {
      this.requestStop({ outcome: 'failed', reason: `stage "${result.id}" failed (fail-fast)` });
    }
    const stage = this.byId.get(result.id);
    if (result.status === 'failed' && !result.allowFailure && stage?.matrixLimits?.failFast) await this.failFastMatrix(stage);
  }

  private outcome(): RunResult['status'] {
    if (this.stop) return this.stop.outcome;
    const failed = [...this.states.values()].some((state) => state.phase === 'finished' && state.result.status === 'failed' && !state.result.allowFailure);
    return failed ? 'failed' : 'succeeded';
  }

  private phaseOf(id: string): StageState['phase'] {
    return this.states.get(id)!.phase;
  }

  private resultOf(id: string): StageResult | undefined {
    const state = this.states.get(id);
    return state?.phase === 'finished' ? state.result : undefined;
  }

  /** Stages holding an executor: a stack stage only waits for its stack run. */
  private runningCount(): number {
    let count = 0;
    for (const [id, state] of this.states) if (state.phase === 'running' && this.byId.get(id)!.kind !== 'stack') count++;
    return count;
  }
}

/** A need lets its dependents run when it succeeded, or failed but was allowed to (GitLab's rule). */
function needSatisfied(result: StageResult): boolean {
  return result.status === 'succeeded' || (result.status === 'failed' && result.allowFailure);
}

/** A stage stopped while it waited for its lock was never started. */
function stopReason(reason: unknown): string {
  const request = reason as Partial<StopRequest> | undefined;
  return `not started: ${typeof request?.reason === 'string' ? request.reason : 'cancelled'} (while waiting for its lock)`;
}

function needVerb(status: StageOutcome): string {
  return status === 'failed' ? 'failed' : status === 'skipped' ? 'was skipped' : 'was cancelled';
}
