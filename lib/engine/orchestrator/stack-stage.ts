/**
 * A `stack` stage: no executor and no container. It asks the run's StackStageRunner (the server's,
 * worker/jobs/run/stacks.ts) to queue a run of the stack and wait for it, and ends as that run ends. Without
 * a runner (`buildit run`) it fails, saying why: nothing may report success for a stack it did not run.
 * Its `timeout` stops the wait the way a cancel does (the runner cancels the stack run) and fails the stage.
 */
import type { PlannedStage } from '../../pipeline/plan-types';
import { messageOf } from '../../errors';
import type { AttemptOutcome, StopRequest } from './attempt';
import { formatDuration } from './duration';
import { startReporting, type StageContext } from './stage';
import type { ResumedRunningStage, StageResult } from './types';

/** What a stack stage's StageResult and `stage.started` name as its executor. */
export const STACK_EXECUTOR = 'stack';

/** How a stage's stop is told apart from a cancel: a timeout fails the stage. */
type StageStop = StopRequest | { status: 'failed'; reason: string };

export function noStackRunnerReason(stack: { name: string; action: string }): string {
  return (
    `stack stages run only on a BuildIt server: \`buildit run\` cannot ${stack.action} stack "${stack.name}" here. ` +
    `Push the change and let the server run the pipeline, or plan the stack with \`buildit stacks plan ${stack.name} DIR\``
  );
}

export async function executeStackStage(
  ctx: StageContext,
  stage: PlannedStage,
  signal: AbortSignal,
  resumed?: ResumedRunningStage,
  notice?: string,
): Promise<StageResult> {
  const { log, result } = await startReporting(ctx, stage, STACK_EXECUTOR, resumed, notice);
  const stack = stage.stack!;
  const fail = async (reason: string): Promise<StageResult> => {
    await log('system', reason).catch(() => {});
    return result(1, { status: 'failed', exitCode: null, reason });
  };
  if (!ctx.stacks) return fail(noStackRunnerReason(stack));

  const stop = new AbortController();
  const onAbort = (): void => stop.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  const timeoutMs = stage.timeoutMs;
  const timer =
    timeoutMs === null ? undefined : setTimeout(() => stop.abort({ status: 'failed', reason: `timed out after ${formatDuration(timeoutMs)}` }), timeoutMs);
  try {
    const outcome = await ctx.stacks({ stageId: stage.id, stack, signal: stop.signal, log: (line) => log('stdout', line) });
    // A stack run that ended well before the stop took effect stays a success; otherwise the stop says why.
    if (stop.signal.aborted && outcome.status !== 'succeeded') return result(1, stopOutcome(stop.signal.reason));
    return result(1, { status: outcome.status, exitCode: null, ...(outcome.reason === undefined ? {} : { reason: outcome.reason }) });
  } catch (error) {
    if (stop.signal.aborted) return result(1, stopOutcome(stop.signal.reason));
    return fail(`internal error: ${messageOf(error)}`);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

function stopOutcome(reason: unknown): AttemptOutcome {
  const stop = reason as Partial<StageStop> | undefined;
  return { status: stop?.status === 'failed' ? 'failed' : 'cancelled', exitCode: null, reason: typeof stop?.reason === 'string' ? stop.reason : 'cancelled' };
}
