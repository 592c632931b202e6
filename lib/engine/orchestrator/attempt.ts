/**
 * One attempt of one stage on one executor: spawn → read logs to the end → wait → destroy.
 * The attempt can be stopped from outside (cancel, fail-fast, pipeline timeout) through `signal`,
 * or by its own timeout. Either way the executor is asked to cancel, and if it has not finished
 * `cancelDeadlineMs` later we stop waiting for it, so a run always ends within its 5 s promise.
 * `destroy` always runs, also after a failed spawn or a give-up, and is not tied to the signal
 * (teardown must happen precisely when the run is being cancelled).
 */
import type { LogStream, StageOutcome } from '../../events/types';
import type { Executor, ExecutorHandle, ExitResult, StageJob } from '../executors/types';
import { messageOf } from '../../errors';
import { formatDuration } from './duration';

export interface AttemptOutcome {
  status: Extract<StageOutcome, 'succeeded' | 'failed' | 'cancelled'>;
  exitCode: number | null;
  reason?: string;
}

/** Why an attempt was stopped from outside; passed as the AbortSignal's reason. */
export interface StopRequest {
  /** `failed`: the attempt must not count as done (a resumed stage that lost its lock). */
  status: 'cancelled' | 'failed';
  reason: string;
}

export interface AttemptContext {
  executor: Executor;
  job: StageJob;
  timeoutMs: number | null;
  signal: AbortSignal;
  cancelDeadlineMs: number;
  /** Emits one (already split) log line; the caller masks and numbers it. */
  log: (stream: LogStream, line: string) => Promise<void>;
  /** Continue this already spawned attempt (crash recovery) instead of spawning one; its log skips `skipLines`. */
  resume?: { handle: ExecutorHandle; skipLines: number };
  /** Told the handle right after spawn (see RunPlanOptions.onSpawned); errors are ignored. */
  onSpawned?: (handle: ExecutorHandle) => void | Promise<void>;
}

export async function runAttempt(ctx: AttemptContext): Promise<AttemptOutcome> {
  const { executor, job, signal } = ctx;
  // (A resumed attempt's work exists already: it goes on below, to be cancelled and destroyed.)
  if (signal.aborted && !ctx.resume) return stopOutcome(signal.reason, null);
  let handle: ExecutorHandle;
  try {
    handle = ctx.resume ? ctx.resume.handle : await executor.spawn(job);
  } catch (error) {
    if (signal.aborted) return stopOutcome(signal.reason, null);
    return { status: 'failed', exitCode: null, reason: `could not start: ${messageOf(error)}` };
  }

  // The first reason to stop wins: a timeout that fires while a cancel is in flight changes nothing.
  let stopped: AttemptOutcome | null = null;
  let giveUp: () => void = () => {};
  const gaveUp = new Promise<'gave-up'>((resolve) => (giveUp = () => resolve('gave-up')));
  let deadline: NodeJS.Timeout | undefined;
  const stop = (outcome: AttemptOutcome): void => {
    if (stopped) return;
    stopped = outcome;
    executor.cancel(handle).catch(() => {});
    deadline = setTimeout(giveUp, ctx.cancelDeadlineMs);
  };
  const onAbort = (): void => stop(stopOutcome(signal.reason, null));
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  const timeout =
    ctx.timeoutMs === null
      ? undefined
      : setTimeout(() => stop({ status: 'failed', exitCode: null, reason: `timed out after ${formatDuration(ctx.timeoutMs!)}` }), ctx.timeoutMs);

  // Once the attempt is over (normally or given up), late lines from a stuck executor are dropped:
  // nothing may be logged for a stage after its attempt ended.
  let open = true;
  const follow = async (): Promise<ExitResult> => {
    const lines = ctx.resume ? executor.logs(handle, { skipLines: ctx.resume.skipLines }) : executor.logs(handle);
    for await (const { stream, line } of lines) {
      if (!open) break;
      await ctx.log(stream, line);
    }
    return executor.wait(handle);
  };

  try {
    if (ctx.onSpawned && !ctx.resume)
      await Promise.resolve()
        .then(() => ctx.onSpawned!(handle))
        .catch(() => {});
    const exit = await Promise.race([follow(), gaveUp]);
    open = false;
    if (stopped) return { ...(stopped as AttemptOutcome), exitCode: exit === 'gave-up' ? null : exit.exitCode };
    return exitOutcome(exit as ExitResult);
  } catch (error) {
    open = false;
    if (stopped) return stopped;
    return { status: 'failed', exitCode: null, reason: `executor ${executor.name}: ${messageOf(error)}` };
  } finally {
    clearTimeout(timeout);
    clearTimeout(deadline);
    signal.removeEventListener('abort', onAbort);
    await executor.destroy(handle).catch(() => {});
  }
}

function exitOutcome(exit: ExitResult): AttemptOutcome {
  if (exit.error) return { status: 'failed', exitCode: exit.exitCode, reason: exit.error };
  if (exit.oomKilled) return { status: 'failed', exitCode: exit.exitCode, reason: `out of memory (exit code ${exit.exitCode})` };
  if (exit.exitCode === 0) return { status: 'succeeded', exitCode: 0 };
  return { status: 'failed', exitCode: exit.exitCode, reason: `exit code ${exit.exitCode}` };
}

function stopOutcome(reason: unknown, exitCode: number | null): AttemptOutcome {
  const request = reason as Partial<StopRequest> | undefined;
  return {
    status: request?.status === 'failed' ? 'failed' : 'cancelled',
    exitCode,
    reason: typeof request?.reason === 'string' ? request.reason : 'cancelled',
  };
}
