/** Executor tests: a StageJob with nothing in it but what a test sets. */
import type { StageJob } from '../../lib/engine/executors/types';

export function stageJob(runId: string, commands: string[], fields: Partial<StageJob> = {}): StageJob {
  return { runId, stageId: 'build', attempt: 1, image: null, commands, env: {}, services: [], mounts: [], labels: {}, ...fields };
}
