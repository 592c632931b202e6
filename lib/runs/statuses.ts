/** The statuses a run or a stage ends in, defined once for the worker, the API and the realtime catch-up. */
import type { RunOutcome, StageOutcome } from '../events/types';

export const FINISHED_RUN_STATUSES: readonly RunOutcome[] = ['succeeded', 'failed', 'cancelled'];
export const FINISHED_STAGE_STATUSES: readonly StageOutcome[] = ['succeeded', 'failed', 'skipped', 'cancelled'];

export function isFinishedRunStatus(status: string): status is RunOutcome {
  return (FINISHED_RUN_STATUSES as readonly string[]).includes(status);
}

export function isFinishedStageStatus(status: string): status is StageOutcome {
  return (FINISHED_STAGE_STATUSES as readonly string[]).includes(status);
}
