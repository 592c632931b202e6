/**
 * The executor contract, backend-neutral in the spirit of Woodpecker's backend interface. An executor
 * runs ONE attempt of ONE stage at a time per handle; the orchestrator owns every policy (ordering,
 * retries, timeouts, skipping, cancellation). Implementations: local, docker (kubernetes later).
 *
 * Per run: `setupRun` provisions what the run's stages share (the workspace: a host directory for
 * `local`, a bind-mounted directory for `docker`, a volume for Kubernetes) and `teardownRun` removes it;
 * both are idempotent (a worker that takes a run over calls setupRun again). `stopAll` stops every
 * attempt of a run at once, and `recover` finds an attempt a dead worker started, by its labels.
 *
 * Per attempt: spawn → logs (read to the end) → wait → destroy.
 * - `logs()` may be called once per handle; it ends when the work ends. `skipLines` lets a recovering
 *   worker re-attach without duplicating lines.
 * - `cancel()` stops the work (SIGTERM, then SIGKILL after a grace period) and is idempotent; it is safe
 *   at any time, including after exit or after a failed spawn.
 * - `destroy()` removes everything the attempt created (containers, services) and is idempotent; it is
 *   called even when spawn failed, with the outer (not cancelled) context.
 * - Executors are safe to use for many concurrent stages and runs.
 *
 * Nothing here is a path of the worker's host: a job names its run and its cache volumes, and each
 * executor resolves them in its own storage (see lib/engine/workspace/storage.ts).
 */

export interface ResourceLimits {
  memoryBytes?: number;
  /** CPU in units of 1e-9 CPUs, as Docker's NanoCpus. */
  nanoCpus?: number;
}

export interface ServiceJob {
  name: string;
  image: string;
  env: Record<string, string>;
  /** Optional command (Docker Cmd) overriding the image's default; most services (postgres, redis) need none. */
  command?: string[];
}

/** A cache directory of BuildIt's storage made available to a stage at `path`. */
export interface VolumeMount {
  /** The volume's name in the storage (opaque to the orchestrator). */
  volume: string;
  /** Absolute in a container; relative to the workspace on `local`. */
  path: string;
  readOnly?: boolean;
}

export interface StageJob {
  runId: string;
  /** Planned stage id (`test[node=18]`). */
  stageId: string;
  attempt: number;
  /** Null only for stages the executor cannot run without one (docker refuses them). */
  image: string | null;
  /** Scripts, each run with `sh -e` in order; the stage fails at the first non-zero exit. */
  commands: string[];
  /** Final environment, secrets included (values are masked by the orchestrator, not here). */
  env: Record<string, string>;
  services: ServiceJob[];
  /** Cache volumes (the run's workspace is always there: the cwd on local, /workspace in containers). */
  mounts: VolumeMount[];
  resources?: ResourceLimits;
  /** Labels put on every container/pod so a recovering worker can find them (buildit.run, buildit.stage, ...). */
  labels: Record<string, string>;
}

export interface RunSetup {
  runId: string;
}

/** Which attempt a recovering worker looks for. */
export interface AttemptRef {
  runId: string;
  stageId: string;
  attempt: number;
}

export interface ExecutorHandle {
  executor: string;
  /** Process group id, container id or Job name: what `cancel` needs to find the work again. */
  id: string;
  /** Extra ids to clean up (service containers). */
  related: string[];
}

export interface LogLine {
  stream: 'stdout' | 'stderr';
  line: string;
}

export interface ExitResult {
  exitCode: number;
  oomKilled: boolean;
  /** An error that is not the command's own failure (image missing, container vanished). */
  error?: string;
}

export interface Executor {
  readonly name: string;
  /** True when an attempt's work outlives the worker that started it (a container), so another worker can `recover` it. */
  readonly survivesWorker: boolean;
  setupRun(run: RunSetup): Promise<void>;
  teardownRun(runId: string): Promise<void>;
  /** Throws an `ExecutorError` with a message saying what to do (e.g. the image is missing and how to get it). */
  spawn(job: StageJob): Promise<ExecutorHandle>;
  logs(handle: ExecutorHandle, options?: { skipLines?: number }): AsyncIterable<LogLine>;
  wait(handle: ExecutorHandle): Promise<ExitResult>;
  cancel(handle: ExecutorHandle): Promise<void>;
  destroy(handle: ExecutorHandle): Promise<void>;
  /** The attempt's work found again after a worker died (running or exited), or null when it is gone or cannot be re-attached. */
  recover(attempt: AttemptRef): Promise<ExecutorHandle | null>;
  /** Kills every attempt of the run now, with no grace period (a second Ctrl-C); idempotent. */
  stopAll(runId: string): Promise<void>;
}

export type ExecutorErrorCode = 'image_missing' | 'engine_unavailable' | 'spawn_failed' | 'no_workspace' | 'lost';

/** A failure of the executor itself (not of the stage's commands); its message is shown to the user. */
export class ExecutorError extends Error {
  constructor(
    message: string,
    readonly code: ExecutorErrorCode,
  ) {
    super(message);
    this.name = 'ExecutorError';
  }
}
