/**
 * The execution plan: the intermediate representation between the pipeline language (lib/pipeline)
 * and everything that executes it (lib/engine/orchestrator, lib/engine/executors, the CLI, the server).
 * Executors and the orchestrator only ever see these types, never KDL or the parsed spec.
 * Everything here is plain JSON (no Dates, no class instances) so a plan can be stored and sent.
 */

export type StageKind = 'run' | 'build' | 'deploy' | 'stack';
export type ExecutorName = 'local' | 'docker' | 'kubernetes';
/** Every event that can start a run, defined once for the language, the API and the CLI. */
export const TRIGGER_EVENTS = ['push', 'tag', 'pull_request', 'schedule', 'manual'] as const;
export type TriggerEvent = (typeof TRIGGER_EVENTS)[number];

/** What started a run: the input of `plan()`. */
export interface TriggerContext {
  event: TriggerEvent;
  branch?: string;
  /** The pushed tag: required for the event "tag"; a tag trigger usually has no branch. */
  tag?: string;
  sha?: string;
  message?: string;
  author?: string;
  /** The pull request a `pull_request` run is for (`${git.pr}`, `${git.source_branch}`, `${git.target_branch}`). */
  pullRequest?: { number: number; sourceBranch: string; targetBranch: string };
  /**
   * Files changed by the triggering commits (paths from the repository root), for `on ... paths=` and
   * `when changes=`. Absent = unknown: those filters then hold.
   */
  changedFiles?: string[];
  /** Values for the pipeline's `variable`s; unknown names are a planning error. */
  variables?: Record<string, string>;
  /** Injected, never random, so plans are deterministic (`${run.id}`, `${run.number}`). */
  runId: string;
  runNumber: number;
}

/** An env value that contains `${secrets.NAME}`: text parts and secret references, resolved at execution time. */
export type SecretTemplate = Array<{ text: string } | { secret: string }>;

/**
 * An env value that contains `${needs.STAGE.outputs.NAME}`: text parts and outputs of needed stages
 * (by planned stage id), filled in when the stage starts.
 */
export type OutputTemplate = Array<{ text: string } | { need: string; output: string }>;

/** One `when` alternative that tests needs' outputs: each named output must have exactly its value. */
export type OutputAlternative = Array<{ need: string; output: string; value: string }>;

export interface PlannedCache {
  /** The `cache "name"` declared at top level. */
  name: string;
  /** The interpolated key: one stored copy per key. */
  key: string;
  /** Paths inside the stage's filesystem (absolute in a container, relative to the workspace on `local`). */
  paths: string[];
}

export interface PlannedService {
  name: string;
  image: string;
  env: Record<string, string>;
}

export interface PlannedStage {
  /** Unique in the plan: the stage name, plus matrix values in key order: `test[node=18,os=linux]`. */
  id: string;
  /** The `stage "name"` it came from. */
  name: string;
  /** Matrix values of this combination (empty object when the stage has no matrix). */
  matrix: Record<string, string>;
  /**
   * Ids of the planned stages this one waits for (a matrix stage's need expands to all its combinations).
   * An optional need on a stage that is not part of the run (its `when` is false) is left out.
   */
  needs: string[];
  /**
   * The ids among `needs` that are optional (`needs "x" optional=#true`): a selection of stages
   * (`buildit run --only`) does not follow them. Absent when there are none, so plans without optional
   * needs keep their shape.
   */
  optionalNeeds?: string[];
  /**
   * The matrix's own limits, the same on each of its combinations (those with the same `name`):
   * `failFast` (the first failed combination cancels the others), `maxParallel` (at most this many run
   * at once). Absent when the matrix sets neither.
   */
  matrixLimits?: { failFast?: true; maxParallel?: number };
  /** Topological level: 0 for stages with no needs, else 1 + the highest level among its needs. */
  level: number;
  kind: StageKind;
  /**
   * `when status="failure"` (runs only when something it needs failed) or `"always"` (runs whatever its
   * needs did, also in a stopped run, within a grace period). Absent = `"success"`: every need succeeded.
   */
  runOn?: 'failure' | 'always';
  /** Set when the stage will not run in this plan (its `when` is false); the orchestrator marks it skipped. */
  skip: { reason: string } | null;
  /**
   * `when needs.STAGE.outputs.NAME="..."`: the alternatives still open after planning (any may hold), tested
   * when the stage starts; the stage is skipped when none holds. Absent when the stage's `when` needs no output.
   */
  outputWhen?: OutputAlternative[];
  /** Container image (interpolated); null for `local` stages without an image. */
  image: string | null;
  /** Shell scripts, one per `run`, interpolated; each runs with `sh -e`. */
  commands: string[];
  /** Pipeline env merged with stage env (stage wins), interpolated. Does not contain secret values. */
  env: Record<string, string>;
  /** Env entries whose value references `${secrets.NAME}`; resolved by the orchestrator. */
  secretEnv: Record<string, SecretTemplate>;
  /** Env entries (and run-script variables) made of needs' outputs; absent when there are none. */
  outputEnv?: Record<string, OutputTemplate>;
  /** Names the stage may write to `$BUILDIT_OUTPUT` (`outputs "NAME"`); absent when none. */
  outputs?: string[];
  /** Secrets declared with `secret "NAME"`: injected as env var NAME. Also lists every `${secrets.X}` used. */
  secrets: string[];
  caches: PlannedCache[];
  /** Glob patterns (relative to the workspace) collected after success and given to dependents. */
  artifacts: string[];
  services: PlannedService[];
  timeoutMs: number | null;
  /** Extra attempts after a failed one (`retry 2` = up to 3 attempts). */
  retry: number;
  allowFailure: boolean;
  /** Waits for a person's approval before it starts. */
  approval: boolean;
  /** Executor requested by the stage; null = the run's default. */
  executor: ExecutorName | null;
  /**
   * `lock "NAME"` (interpolated): the stage runs only while it holds this lock, which at most one stage
   * run holds at a time in the tenant (on the server; in one run with `buildit run`). Absent = none.
   */
  lock?: string;
  build: { context: string; dockerfile: string; tag: string } | null;
  deploy: { environment: string; service: string } | null;
  stack: { name: string; action: string } | null;
}

export interface ExecutionPlan {
  pipeline: string;
  /** False when the trigger filters (`on ...`) do not match: nothing should run. */
  triggered: boolean;
  /** Why the pipeline does not run for this trigger (set when `triggered` is false). */
  notTriggeredReason: string | null;
  /**
   * `group`: at most one run of this group (name interpolated) runs at a time in the tenant; with
   * `cancelInProgress` a new run cancels the older ones, otherwise it waits for them. Absent = none.
   */
  group?: { name: string; cancelInProgress: boolean };
  /** Most stages running at once; null = the executor host's default (number of cores). */
  concurrency: number | null;
  /** Whole-run timeout. */
  timeoutMs: number | null;
  /** Every planned stage, sorted by (level, declaration order, matrix order): deterministic. */
  stages: PlannedStage[];
  /** Stage ids by topological level. */
  levels: string[][];
}
