/**
 * `--only STAGE...`: a plan reduced to the named stages plus everything they need, transitively.
 * A name selects a stage id (`test[node=18]`) or every combination of a stage (`test`).
 */
import type { ExecutionPlan } from '../../pipeline/plan-types';

export class UnknownStageError extends Error {}

export function selectStages(plan: ExecutionPlan, names: string[]): ExecutionPlan {
  const byId = new Map(plan.stages.map((stage) => [stage.id, stage]));
  const wanted: string[] = [];
  for (const name of names) {
    const matches = plan.stages.filter((stage) => stage.id === name || stage.name === name).map((stage) => stage.id);
    if (matches.length === 0) {
      const known = [...new Set(plan.stages.map((stage) => stage.name))].join(', ');
      throw new UnknownStageError(`no stage "${name}" in pipeline "${plan.pipeline}" (stages: ${known || 'none'})`);
    }
    wanted.push(...matches);
  }
  const keep = new Set<string>();
  const visit = (id: string): void => {
    if (keep.has(id)) return;
    keep.add(id);
    for (const need of byId.get(id)?.needs ?? []) visit(need);
  };
  wanted.forEach(visit);
  return {
    ...plan,
    stages: plan.stages.filter((stage) => keep.has(stage.id)),
    levels: plan.levels.map((level) => level.filter((id) => keep.has(id))).filter((level) => level.length > 0),
  };
}
