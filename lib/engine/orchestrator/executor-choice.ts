/**
 * Which executor runs a stage: one rule for `buildit run` and the server, so a pipeline runs locally
 * exactly as the server would. The stage's own `executor` wins; otherwise the run's default, which is
 * a container executor (`docker`) unless `buildit run --executor NAME` says otherwise. A stage without
 * an image therefore never falls back to the host: its container executor refuses it with the reason.
 */
import type { ExecutorName, PlannedStage } from '../../pipeline/plan-types';

export const DEFAULT_EXECUTOR: ExecutorName = 'docker';

export function executorFor(stage: Pick<PlannedStage, 'executor'>, runDefault: string = DEFAULT_EXECUTOR): string {
  return stage.executor ?? runDefault;
}

/** Executors the language names but the engine does not have yet: a stage that picks one fails with this reason. */
export const UNBUILT_EXECUTORS: Readonly<Record<string, string>> = {
  kubernetes: 'executor "kubernetes" is not supported yet: use docker',
};
