/**
 * `local` executor: runs a stage's commands as host processes in the run's workspace (a directory of
 * the host storage). On a server it is off unless the operator enables it (BUILDIT_WORKER_EXECUTORS).
 *
 * - One process group per attempt, so the handle id (the pgid) stays the same for the whole attempt
 *   and `cancel` reaches every command and all their children. A stage of ONE command runs as that
 *   command's own `sh -e -c COMMAND` (exactly what the runner would start for it, minus the runner):
 *   cancel sends SIGTERM to the whole group. A stage of several commands is led by the stage runner
 *   (stage-runner.ts), which forwards SIGTERM once to the group itself. Either way SIGKILL goes to the
 *   whole group after `graceMs`, and a cancelled stage exits 143 (137 if it had to be killed).
 * - env = job.env, plus PATH and HOME from the worker's environment when the job does not set them
 *   (so host tools are found). Nothing else leaks from the worker's environment.
 * - When the leader exits, whatever is left in its process group (background jobs) is SIGKILLed, as
 *   a container's processes die with its PID 1. Processes that left the group (setsid) are not ours.
 * - `image` and `services` are ignored: there is no image to run in and no sidecar. `resources` are not
 *   enforced (no cgroups here). Cache volumes: see local-mounts.ts.
 * - A process cannot be re-attached after a worker dies (its pipes died with it): `recover` finds
 *   nothing, and the orchestrator fails such a stage as lost.
 */
import { lstat } from 'node:fs/promises';
import type { HostStorage } from '../workspace/storage';
import { LineSplitter, LogLineQueue } from './lines';
import { placeMounts, removeMounts, type PlacedMount } from './local-mounts';
import { killGroupQuietly, startGroupLeader, terminateGroup, type GroupLeader } from './process-group';
import { STAGE_RUNNER_SCRIPT } from './stage-runner';
import { ExecutorError, type AttemptRef, type Executor, type ExecutorHandle, type ExitResult, type LogLine, type RunSetup, type StageJob } from './types';

export interface LocalExecutorOptions {
  storage: HostStorage;
  /** Time between SIGTERM and SIGKILL on cancel, in ms. Default 3000. */
  graceMs?: number;
  /** Shell used for the runner and for every command. Default `/bin/sh`. */
  shell?: string;
}

interface LocalAttempt {
  runId: string;
  pgid: number;
  /** `direct`: the leader is the command's own `sh -e -c` (one command); `runner`: the stage runner. */
  mode: 'direct' | 'runner';
  queue: LogLineQueue;
  exited: boolean;
  result: Promise<ExitResult>;
  mounts: PlacedMount[];
  cancelling: Promise<void> | undefined;
  /** A cancel's SIGTERM reached the group (direct mode reports 143/137 then, as the runner does). */
  terminated: boolean;
}

export class LocalExecutor implements Executor {
  readonly name = 'local';
  readonly survivesWorker = false;
  private readonly storage: HostStorage;
  private readonly graceMs: number;
  private readonly shell: string;
  private readonly attempts = new Map<string, LocalAttempt>();
  /** Runs stopped with stopAll: an attempt still starting for one of them is killed at once. */
  private readonly stoppedRuns = new Set<string>();

  constructor(options: LocalExecutorOptions) {
    this.storage = options.storage;
    this.graceMs = options.graceMs ?? 3000;
    this.shell = options.shell ?? '/bin/sh';
  }

  async setupRun(run: RunSetup): Promise<void> {
    await this.storage.prepareRun(run.runId);
  }

  async teardownRun(runId: string): Promise<void> {
    this.stoppedRuns.delete(runId);
    await this.storage.removeWorkspace(runId);
  }

  async spawn(job: StageJob): Promise<ExecutorHandle> {
    const workspace = this.storage.workspaceDir(job.runId);
    if (!(await lstat(workspace).catch(() => null))?.isDirectory()) {
      throw new ExecutorError(`the workspace of run ${job.runId} does not exist (${workspace}); the run was not set up on this executor`, 'no_workspace');
    }
    const notices: string[] = [];
    const mounts = await placeMounts(workspace, job, (volume) => this.storage.volumeDir(volume), notices);

    const env: Record<string, string> = { ...job.env };
    for (const name of ['PATH', 'HOME'] as const) {
      if (env[name] === undefined && process.env[name] !== undefined) env[name] = process.env[name]!;
    }
    // One command: its own `sh -e -c` is the whole stage (one shell, not a runner plus a shell); it is
    // exactly what the runner would run for it. Several: the runner, which runs each in its own shell.
    const mode: LocalAttempt['mode'] = job.commands.length === 1 ? 'direct' : 'runner';
    const argv = mode === 'direct' ? ['sh', '-e', '-c', job.commands[0]!] : [this.shell, '-c', STAGE_RUNNER_SCRIPT, 'buildit-stage', ...job.commands];

    let leader: GroupLeader;
    try {
      leader = await startGroupLeader(this.shell, argv, workspace, env);
    } catch (error) {
      await removeMounts(mounts);
      throw new ExecutorError(`could not start ${this.shell} for stage ${job.stageId}: ${(error as Error).message}`, 'spawn_failed');
    }
    const pgid = leader.pid;
    if (this.stoppedRuns.has(job.runId)) killGroupQuietly(pgid);
    const queue = new LogLineQueue();
    for (const line of notices) queue.push({ stream: 'stderr', line });
    const closed = Promise.all((['stdout', 'stderr'] as const).map((stream) => readLines(leader[stream], stream, queue)));
    void closed.then(() => queue.end());

    const attempt: LocalAttempt = {
      runId: job.runId,
      pgid,
      mode,
      queue,
      exited: false,
      mounts,
      cancelling: undefined,
      terminated: false,
      result: leader.ended.then(async (end) => {
        attempt.exited = true;
        // Background jobs left in the group die with the stage (like processes in a container).
        killGroupQuietly(pgid);
        // Resolve after the output is fully read (the contract reads logs before wait).
        await closed;
        let exitCode = end.code ?? 128 + (end.signal ?? 0);
        // Like the runner: a cancelled stage exits 143, or 137 if it had to be killed.
        if (mode === 'direct' && attempt.terminated) exitCode = end.signal === 9 ? 137 : 143;
        return { exitCode, oomKilled: false };
      }),
    };
    this.attempts.set(String(pgid), attempt);
    return { executor: this.name, id: String(pgid), related: [] };
  }

  logs(handle: ExecutorHandle, options: { skipLines?: number } = {}): AsyncIterable<LogLine> {
    const attempt = this.attempts.get(handle.id);
    if (!attempt) return (async function* () {})();
    return attempt.queue.drain(options.skipLines ?? 0);
  }

  async wait(handle: ExecutorHandle): Promise<ExitResult> {
    const attempt = this.attempts.get(handle.id);
    if (!attempt) return { exitCode: -1, oomKilled: false, error: `process group ${handle.id} was not started by this worker; its exit code is lost` };
    return attempt.result;
  }

  cancel(handle: ExecutorHandle): Promise<void> {
    const attempt = this.attempts.get(handle.id);
    if (!attempt || attempt.exited) return Promise.resolve();
    attempt.cancelling ??= terminateGroup({
      pgid: attempt.pgid,
      leaderOnly: attempt.mode === 'runner',
      graceMs: this.graceMs,
      done: () => attempt.exited,
      exited: attempt.result,
    });
    attempt.terminated = true;
    return attempt.cancelling;
  }

  async destroy(handle: ExecutorHandle): Promise<void> {
    const attempt = this.attempts.get(handle.id);
    if (!attempt) return;
    if (!attempt.exited) {
      killGroupQuietly(attempt.pgid);
      await Promise.race([attempt.result, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    }
    await removeMounts(attempt.mounts);
    attempt.mounts = [];
    this.attempts.delete(handle.id);
  }

  /** A host process cannot be re-attached: its output pipes died with the worker that started it. */
  async recover(_attempt: AttemptRef): Promise<ExecutorHandle | null> {
    return null;
  }

  /** SIGKILLs every process group of the run, synchronously, and any the run still starts. */
  async stopAll(runId: string): Promise<void> {
    this.stoppedRuns.add(runId);
    for (const attempt of this.attempts.values()) {
      if (attempt.runId !== runId || attempt.exited) continue;
      attempt.terminated = true;
      killGroupQuietly(attempt.pgid);
    }
  }
}

/** Reads one output stream of the leader into the queue, line by line; resolves when it closes. */
function readLines(source: GroupLeader['stdout'], stream: LogLine['stream'], queue: LogLineQueue): Promise<void> {
  return new Promise((resolve) => {
    const splitter = new LineSplitter((line) => queue.push({ stream, line }));
    source.on('data', (chunk: Buffer) => splitter.write(chunk));
    source.on('error', () => {});
    source.once('close', () => {
      splitter.end();
      resolve();
    });
  });
}
