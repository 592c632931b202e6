/**
 * The executor contract. An executor runs ONE attempt of ONE stage; the orchestrator owns every
 * policy (ordering, retries, timeouts, skipping, cancellation). Implementations: local, docker
 * (and later kubernetes).
 *
 * Lifecycle per attempt: spawn → logs (read to the end) → wait → destroy.
 * - `logs()` may be called once per handle; it ends when the process/container ends.
 *   `fromTime`/`skipLines` let a recovering worker re-attach without duplicating lines.
 * - `cancel()` stops the work (SIGTERM, then SIGKILL after a grace period) and is idempotent;
 *   it is safe to call at any time, including after exit or after a failed spawn.
 * - `destroy()` removes everything the attempt created (containers, services) and is idempotent;
 *   it is called even when spawn failed, with the outer (not cancelled) context.
 * - Executors are safe to use for many concurrent stages.
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

export interface StageJob {
  runId: string;
  /** Planned stage id (`test[node=18]`). */
  stageId: string;
  attempt: number;
  /** Null on `local` without an image. */
  image: string | null;
  /** Scripts, each run with `sh -e` in order; the stage fails at the first non-zero exit. */
  commands: string[];
  /** Final environment, secrets included (values are masked by the orchestrator, not here). */
  env: Record<string, string>;
  /** Host path of the run's workspace: the cwd on local, bind-mounted at /workspace in containers. */
  workspace: string;
  services: ServiceJob[];
  /** Host directories to bind into the stage (caches on docker); on local, paths are resolved in the workspace. */
  mounts: Array<{ hostPath: string; containerPath: string; readOnly?: boolean }>;
  resources?: ResourceLimits;
  /** Labels put on every container/pod so a recovering worker can find them (buildit.run, buildit.stage, ...). */
  labels: Record<string, string>;
}

export interface ExecutorHandle {
  executor: string;
  /** Process group id, container id or Job name: what `status`/`cancel` need to find the work again. */
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

export type HandleStatus = 'running' | 'exited' | 'gone';

export interface Executor {
  readonly name: string;
  /** Throws an `ExecutorError` with a message saying what to do (e.g. the image is missing and how to get it). */
  spawn(job: StageJob): Promise<ExecutorHandle>;
  logs(handle: ExecutorHandle, options?: { skipLines?: number }): AsyncIterable<LogLine>;
  wait(handle: ExecutorHandle): Promise<ExitResult>;
  status(handle: ExecutorHandle): Promise<HandleStatus>;
  cancel(handle: ExecutorHandle): Promise<void>;
  destroy(handle: ExecutorHandle): Promise<void>;
}

/** A failure of the executor itself (not of the stage's commands); its message is shown to the user. */
export class ExecutorError extends Error {
  constructor(message: string, readonly code: 'image_missing' | 'engine_unavailable' | 'spawn_failed' | 'lost') {
    super(message);
    this.name = 'ExecutorError';
  }
}
