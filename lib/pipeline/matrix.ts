/** Matrix combinations, shared by validation (counting) and planning (expanding). */
import type { StageSpec } from './spec-types';

export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;
export const MAX_MATRIX_PARALLEL = 256;

/**
 * Every combination: the product (first key outermost, values in declaration order) without the
 * excluded ones, then the included ones that are not already there.
 */
export function matrixCombinations(stage: StageSpec): Array<Record<string, string>> {
  let combinations: Array<Record<string, string>> = [{}];
  for (const axis of stage.matrix) {
    const next: Array<Record<string, string>> = [];
    for (const partial of combinations) for (const value of axis.values) next.push({ ...partial, [axis.key]: value });
    combinations = next;
  }
  const { include, exclude } = stage.matrixOptions;
  if (exclude.length > 0) combinations = combinations.filter((combination) => !exclude.some((line) => matches(combination, line.values)));
  for (const line of include) {
    if (combinations.some((combination) => matches(combination, line.values))) continue;
    // In key order, so ids look alike whichever way a combination came in.
    combinations.push(Object.fromEntries(stage.matrix.map((axis) => [axis.key, line.values[axis.key]!])));
  }
  return combinations;
}

function matches(combination: Record<string, string>, values: Record<string, string>): boolean {
  return Object.entries(values).every(([key, value]) => combination[key] === value);
}

/** At most how many combinations the stage plans (before excludes), cheap enough for a guard. */
export function combinationBound(stage: StageSpec): number {
  return stage.matrix.reduce((product, axis) => product * Math.max(1, axis.values.length), 1) + stage.matrixOptions.include.length;
}
