/**
 * The typed pipeline, as parsed from KDL. Every element keeps the span of the KDL it came from, so the
 * validator can point at it. Strings that may contain `${...}` are `Text`: value plus the position of
 * each `${` in the source, so interpolation errors point at the reference itself. In the spec of a
 * file loaded without any diagnostic, spans are resolved on first read, at the cost of one located
 * re-parse of the file (see `loadPipeline` and `LazyLocations`).
 */
import type { Span } from './diagnostics';
import type { ExecutorName, StageKind, TriggerEvent } from './plan-types';

export interface Text {
  value: string;
  span: Span;
  /** Source position of the n-th `${` of `value` (falls back to `span` when it cannot be mapped). */
  refSpans: Span[];
}

export interface Named {
  name: string;
  span: Span;
}

export interface TriggerSpec {
  event: TriggerEvent;
  /** Branch globs (picomatch) of "push" and "pull_request"; empty = every branch. */
  branches: string[];
  /** Tag globs (picomatch) of "tag"; empty = every tag. */
  tags: string[];
  /** Globs of changed files ("push", "pull_request"); `!` excludes; empty = any change. */
  paths: string[];
  cron: string | null;
  span: Span;
}

export interface EnvEntry {
  name: string;
  value: Text;
  span: Span;
}

export interface VariableSpec {
  name: string;
  default: string | null;
  description: string | null;
  span: Span;
}

export interface CacheSpec {
  name: string;
  key: Text;
  paths: Text[];
  span: Span;
}

export interface MatrixAxis {
  key: string;
  values: string[];
  span: Span;
}

/** One `include`/`exclude` line of a matrix: values by key. */
export interface MatrixCombination {
  values: Record<string, string>;
  span: Span;
}

export interface MatrixOptions {
  /** `fail-fast=#true`: the first failed combination cancels the others. */
  failFast: boolean;
  /** At most this many combinations run at once; null = no limit of its own. */
  maxParallel: number | null;
  /** Combinations added after the product (GitHub's `include`). */
  include: MatrixCombination[];
  /** Combinations of the product left out (each given key must match). */
  exclude: MatrixCombination[];
}

/** `when var.NAME="value"`: the run variable must have exactly this value. */
export interface VariableCondition {
  name: string;
  value: string;
  span: Span;
}

/**
 * `when needs.STAGE.outputs.NAME="value"`: the output of a needed stage must have exactly this value.
 * Known only when the stage starts, so it is tested then (by the orchestrator), not by the planner.
 */
export interface OutputCondition {
  stage: string;
  output: string;
  value: string;
  span: Span;
}

/** One `when` node: every property given must hold. A stage's `when` nodes are alternatives (OR). */
export interface WhenSpec {
  branch: string | null;
  tag: string | null;
  event: TriggerEvent | null;
  variables: VariableCondition[];
  outputs: OutputCondition[];
  /** `changes="GLOB" ...`: globs of changed files, `!` excludes; empty = not tested. */
  changes: string[];
  span: Span;
}

/** `when status="..."`: which results of its needs let a stage run (see docs/pipeline-language.md). */
export type StageStatusCondition = 'success' | 'failure' | 'always';

export interface ServiceSpec {
  name: string;
  image: Text;
  env: EnvEntry[];
  span: Span;
}

export interface BuildSpec {
  context: Text;
  dockerfile: Text;
  tag: Text;
  span: Span;
}

export interface DeploySpec {
  environment: Text;
  service: Text;
  span: Span;
}

export type StackAction = 'plan' | 'apply' | 'destroy';

export interface StackSpec {
  name: Text;
  action: StackAction;
  span: Span;
}

export interface NeedSpec extends Named {
  /** `needs "x" optional=#true`: when x is not part of the run, the stage runs without it. */
  optional: boolean;
}

export interface StageSpec {
  name: string;
  span: Span;
  /** From the `needs=` property and `needs` children, in order, duplicates removed (a required need wins). */
  needs: NeedSpec[];
  /** `outputs "NAME" ...`: what the stage may write to `$BUILDIT_OUTPUT` for its dependents. */
  outputs: Named[];
  /** Null only in a spec with errors (a stage needs one of run/build/deploy/stack). */
  kind: StageKind | null;
  image: Text | null;
  commands: Text[];
  env: EnvEntry[];
  secrets: Named[];
  caches: Named[];
  artifacts: Text[];
  services: ServiceSpec[];
  matrix: MatrixAxis[];
  matrixOptions: MatrixOptions;
  /** Alternatives: the stage runs when any of them holds (none = always). */
  when: WhenSpec[];
  status: StageStatusCondition;
  /** Where `status` was given; null = the default `success`. */
  statusSpan: Span | null;
  timeoutMs: number | null;
  retry: number;
  allowFailure: boolean;
  approval: boolean;
  executor: ExecutorName | null;
  /** `lock "NAME"`: at most one stage run holds the lock (name interpolated) at a time in the tenant. */
  lock: Text | null;
  build: BuildSpec | null;
  deploy: DeploySpec | null;
  stack: StackSpec | null;
}

/** `group "NAME" cancel-in-progress=#true`: at most one run of the group at a time (per tenant). */
export interface GroupSpec {
  name: Text;
  cancelInProgress: boolean;
  span: Span;
}

export interface PipelineSpec {
  file: string;
  name: string;
  span: Span;
  triggers: TriggerSpec[];
  group: GroupSpec | null;
  concurrency: number | null;
  timeoutMs: number | null;
  env: EnvEntry[];
  variables: VariableSpec[];
  caches: CacheSpec[];
  stages: StageSpec[];
}
