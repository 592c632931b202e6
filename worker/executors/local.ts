/**
 * `local` executor: runs a stage's commands as host processes in the run's workspace.
 *
 * - One process group per attempt. The group leader is a small `sh` runner (STAGE_RUNNER_SCRIPT) that
 *   runs every command as `sh -e -c COMMAND` in order and stops at the first non-zero exit, so the
 *   handle id (the pgid) stays the same for the whole attempt and `cancel` reaches every command and
 *   all their children: SIGTERM (forwarded once to the group by the runner), SIGKILL to the whole
 *   group after `graceMs`. A cancelled stage exits 143 (137 if it had to be killed).
 * - env = job.env, plus PATH and HOME from the worker's environment when the job does not set them
 *   (so host tools are found). Nothing else leaks from the worker's environment.
 * - When the leader exits, whatever is left in its process group (background jobs) is SIGKILLed, as
 *   a container's processes die with its PID 1. Processes that left the group (setsid) are not ours.
 * - `images` and `services` are ignored on local: there is no image to run in and no sidecar.
 *   `resources` are not enforced (no cgroups here).
 * - `mounts`: containerPath must be relative; it is resolved inside the workspace and must stay in it.
 *   Strategy: a writable mount becomes a SYMLINK workspace/containerPath -> hostPath (zero copy; what
 *   the stage writes lands in hostPath, which is what caches need). A `readOnly` mount is COPIED into
 *   the workspace (writes cannot reach the source). Both are removed again by `destroy()`. A path
 *   that already exists in the workspace as a real file/directory is kept and the mount is skipped,
 *   with a `buildit: ...` line on stderr (we never delete the user's files, e.g. node_modules in an
 *   in-place run); an existing symlink (left by a crashed attempt) is replaced.
 * - Re-attaching after a worker crash: a handle this process did not spawn can be `status`ed and
 *   `cancel`led through its pgid; its output and exit code are not recoverable (the pipes died with
 *   the old worker), so `logs` yields nothing and `wait` resolves with `error` once the group is gone.
 */
import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { cp, lstat, mkdir, readdir, readFile, readlink, rm, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import {
  ExecutorError,
  type Executor,
  type ExecutorHandle,
  type ExitResult,
  type HandleStatus,
  type LogLine,
  type StageJob,
} from './types';

/**
 * The stage runner, shared by the local and docker executors so both run commands identically: each
 * positional argument is one command, run as `sh -e -c COMMAND` in order; the first non-zero exit ends
 * the stage with that code.
 *
 * On SIGTERM the runner sends SIGTERM once to its whole process group (`kill 0`: every command and
 * their children), waits for the current command to finish its own cleanup, and exits 143 without
 * starting the next command. The command runs in the background + `wait` only because `wait` is
 * interruptible by a trapped signal (a foreground command would delay the trap until it ends). This
 * matters in containers: docker-init (tini) forwards SIGTERM to the runner only.
 */
export const STAGE_RUNNER_SCRIPT = [
  'trap \'if [ -z "$buildit_cancelled" ]; then buildit_cancelled=1; kill -TERM 0 2>/dev/null; fi\' TERM',
  'for buildit_command in "$@"; do',
  '  sh -e -c "$buildit_command" & buildit_pid=$!',
  '  while :; do wait "$buildit_pid"; buildit_rc=$?; kill -0 "$buildit_pid" 2>/dev/null || break; done',
  '  [ -z "$buildit_cancelled" ] || exit 143',
  '  [ "$buildit_rc" -eq 0 ] || exit "$buildit_rc"',
  'done',
].join('\n');

// ---------------------------------------------------------------------------------------------
// Lines: shared by the executors.

/** Splits one byte stream into lines: handles chunks cut mid-line or mid-UTF-8, `\r\n`, and a last line without newline. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  constructor(private readonly emit: (line: string) => void) {}

  write(chunk: Buffer | string): void {
    const text = this.partial + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl !== -1; nl = text.indexOf('\n', start)) {
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      this.emit(text.slice(start, end));
      start = nl + 1;
    }
    this.partial = text.slice(start);
  }

  /** Emits the final line if the stream did not end with a newline. */
  end(): void {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    if (rest.length > 0) this.emit(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
  }
}

/**
 * An unbounded single-consumer queue of log lines, buffered from spawn time so that a `logs()` call
 * made later misses nothing. `skipLines` drops the first N lines (re-attach without duplicates).
 */
export class LogLineQueue {
  private readonly lines: LogLine[] = [];
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private consumed = false;

  push(line: LogLine): void {
    this.lines.push(line);
    this.notify();
  }

  end(error?: Error): void {
    this.ended = true;
    this.failure = error;
    this.notify();
  }

  get isEnded(): boolean {
    return this.ended;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async *drain(skipLines = 0): AsyncGenerator<LogLine> {
    if (this.consumed) throw new Error('logs() may be called only once per handle');
    this.consumed = true;
    let skip = skipLines;
    let index = 0;
    for (;;) {
      while (index < this.lines.length) {
        const line = this.lines[index]!;
        index++;
        // Release consumed lines in batches so long stages do not keep every line alive.
        if (index >= 1024) {
          this.lines.splice(0, index);
          index = 0;
        }
        if (skip > 0) {
          skip--;
          continue;
        }
        yield line;
      }
      if (this.ended) {
        if (this.failure) throw this.failure;
        return;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------

export interface LocalExecutorOptions {
  /** Time between SIGTERM and SIGKILL on cancel, in ms. Default 3000. */
  graceMs?: number;
  /** Shell used for the runner and for every command. Default `/bin/sh`. */
  shell?: string;
}

interface MaterializedMount {
  target: string;
  kind: 'symlink' | 'copy';
}

interface LocalAttempt {
  child: ChildProcess;
  pgid: number;
  queue: LogLineQueue;
  exited: boolean;
  result: Promise<ExitResult>;
  mounts: MaterializedMount[];
  cancelling: Promise<void> | undefined;
}

function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/**
 * True when the process group has a member that is not a zombie. `kill(-pgid, 0)` alone also counts
 * zombies, and orphaned zombies can linger when PID 1 is slow to reap (as in some sandboxes), so on
 * Linux the group is read from /proc.
 */
async function groupAlive(pgid: number): Promise<boolean> {
  let exists: boolean;
  try {
    exists = signalGroup(pgid, 0);
  } catch (error) {
    // EPERM: the group exists but belongs to someone else.
    exists = (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (!exists || process.platform !== 'linux') return exists;
  const entries = await readdir('/proc').catch(() => null);
  if (!entries) return exists;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Fields after "(comm)": state ppid pgrp ...
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
  }
  return false;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

export class LocalExecutor implements Executor {
  readonly name = 'local';
  private readonly graceMs: number;
  private readonly shell: string;
  private readonly attempts = new Map<string, LocalAttempt>();

  constructor(options: LocalExecutorOptions = {}) {
    this.graceMs = options.graceMs ?? 3000;
    this.shell = options.shell ?? '/bin/sh';
  }

  async spawn(job: StageJob): Promise<ExecutorHandle> {
    const workspace = path.resolve(job.workspace);
    try {
      const stat = await lstat(workspace);
      if (!stat.isDirectory()) throw new Error('not a directory');
    } catch {
      throw new ExecutorError(`workspace ${workspace} of stage ${job.stageId} does not exist or is not a directory`, 'spawn_failed');
    }
    const notices: string[] = [];
    const mounts = await this.materializeMounts(workspace, job, notices);

    const env: Record<string, string> = { ...job.env };
    for (const name of ['PATH', 'HOME'] as const) {
      if (env[name] === undefined && process.env[name] !== undefined) env[name] = process.env[name]!;
    }

    let child: ChildProcess;
    try {
      child = spawnProcess(this.shell, ['-c', STAGE_RUNNER_SCRIPT, 'buildit-stage', ...job.commands], {
        cwd: workspace,
        env: env as NodeJS.ProcessEnv,
        detached: true, // new session + process group: pgid === pid
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      await this.removeMounts(mounts);
      throw new ExecutorError(`could not start ${this.shell} for stage ${job.stageId}: ${(error as Error).message}`, 'spawn_failed');
    }
    const spawned = await new Promise<Error | null>((resolve) => {
      child.once('spawn', () => resolve(null));
      child.once('error', (error) => resolve(error));
    });
    if (spawned || child.pid === undefined) {
      await this.removeMounts(mounts);
      throw new ExecutorError(`could not start ${this.shell} for stage ${job.stageId}: ${spawned?.message ?? 'no pid'}`, 'spawn_failed');
    }
    const pgid = child.pid;
    const queue = new LogLineQueue();
    for (const line of notices) queue.push({ stream: 'stderr', line });
    let openStreams = 2;
    const streamDone = () => {
      openStreams--;
      if (openStreams === 0) queue.end();
    };
    for (const stream of ['stdout', 'stderr'] as const) {
      const splitter = new LineSplitter((line) => queue.push({ stream, line }));
      const source = child[stream]!;
      source.on('data', (chunk: Buffer) => splitter.write(chunk));
      source.once('close', () => {
        splitter.end();
        streamDone();
      });
    }

    const attempt: LocalAttempt = {
      child,
      pgid,
      queue,
      exited: false,
      mounts,
      cancelling: undefined,
      result: new Promise<ExitResult>((resolve) => {
        child.once('exit', (code, signal) => {
          attempt.exited = true;
          // Background jobs left in the group die with the stage (like processes in a container).
          try {
            signalGroup(pgid, 'SIGKILL');
          } catch {
            /* ignore */
          }
          const exitCode = code ?? 128 + (SIGNAL_NUMBERS[signal ?? ''] ?? 0);
          // Resolve after the output is fully read (the contract reads logs before wait).
          child.once('close', () => resolve({ exitCode, oomKilled: false }));
        });
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
    if (attempt) return attempt.result;
    const pgid = Number(handle.id);
    while (Number.isInteger(pgid) && pgid > 1 && (await groupAlive(pgid))) await sleep(100);
    return { exitCode: -1, oomKilled: false, error: `process group ${handle.id} was not started by this worker; its exit code is lost` };
  }

  async status(handle: ExecutorHandle): Promise<HandleStatus> {
    const attempt = this.attempts.get(handle.id);
    if (attempt) return attempt.exited ? 'exited' : 'running';
    const pgid = Number(handle.id);
    return Number.isInteger(pgid) && pgid > 1 && (await groupAlive(pgid)) ? 'running' : 'gone';
  }

  cancel(handle: ExecutorHandle): Promise<void> {
    const attempt = this.attempts.get(handle.id);
    const pgid = Number(handle.id);
    if (!Number.isInteger(pgid) || pgid <= 1) return Promise.resolve();
    if (!attempt) {
      let alive = true;
      const poll = async () => {
        while (alive) {
          alive = await groupAlive(pgid);
          if (alive) await sleep(50);
        }
      };
      return this.terminateGroup(pgid, () => !alive, poll());
    }
    if (attempt.exited) return Promise.resolve();
    attempt.cancelling ??= this.terminateGroup(pgid, () => attempt.exited, attempt.result);
    return attempt.cancelling;
  }

  /**
   * SIGTERM to the runner (it forwards it once to the whole group), SIGKILL to the whole group after
   * the grace period; resolves when `done()`.
   */
  private async terminateGroup(pgid: number, done: () => boolean, exitedPromise?: Promise<unknown>): Promise<void> {
    const exited = exitedPromise ?? new Promise<never>(() => undefined);
    try {
      process.kill(pgid, 'SIGTERM');
    } catch {
      // The runner is gone; whatever is left of its group gets the TERM directly.
      try {
        if (!signalGroup(pgid, 'SIGTERM')) return;
      } catch {
        return;
      }
    }
    const deadline = Date.now() + this.graceMs;
    while (!done() && Date.now() < deadline) {
      await Promise.race([sleep(Math.min(50, Math.max(1, deadline - Date.now()))), exited]);
    }
    if (!done()) {
      try {
        signalGroup(pgid, 'SIGKILL');
      } catch {
        /* gone */
      }
      const hardDeadline = Date.now() + 5000;
      while (!done() && Date.now() < hardDeadline) await Promise.race([sleep(20), exited]);
    }
  }

  async destroy(handle: ExecutorHandle): Promise<void> {
    const attempt = this.attempts.get(handle.id);
    if (!attempt) return;
    if (!attempt.exited) {
      try {
        signalGroup(attempt.pgid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await Promise.race([attempt.result, sleep(5000)]);
    }
    await this.removeMounts(attempt.mounts);
    attempt.mounts = [];
    this.attempts.delete(handle.id);
  }

  private async materializeMounts(workspace: string, job: StageJob, notices: string[]): Promise<MaterializedMount[]> {
    const done: MaterializedMount[] = [];
    try {
      for (const mount of job.mounts) {
        if (path.isAbsolute(mount.containerPath)) {
          throw new ExecutorError(
            `mount ${mount.containerPath} of stage ${job.stageId}: on the local executor a mount path must be relative to the workspace`,
            'spawn_failed',
          );
        }
        const target = path.resolve(workspace, mount.containerPath);
        if (target === workspace || !target.startsWith(workspace + path.sep)) {
          throw new ExecutorError(`mount ${mount.containerPath} of stage ${job.stageId} points outside the workspace`, 'spawn_failed');
        }
        const existing = await lstat(target).catch(() => null);
        if (existing?.isSymbolicLink()) {
          await unlink(target);
        } else if (existing) {
          // The workspace's own directory wins (e.g. node_modules in an in-place run): never delete it.
          notices.push(`buildit: ${mount.containerPath} already exists in the workspace; it is used as is and the mount from ${mount.hostPath} is not applied`);
          continue;
        }
        await mkdir(path.dirname(target), { recursive: true });
        await mkdir(mount.hostPath, { recursive: true }).catch(() => undefined);
        if (mount.readOnly) {
          await cp(mount.hostPath, target, { recursive: true, preserveTimestamps: true });
          done.push({ target, kind: 'copy' });
        } else {
          await symlink(path.resolve(mount.hostPath), target);
          done.push({ target, kind: 'symlink' });
        }
      }
      return done;
    } catch (error) {
      await this.removeMounts(done);
      if (error instanceof ExecutorError) throw error;
      throw new ExecutorError(`could not prepare the mounts of stage ${job.stageId}: ${(error as Error).message}`, 'spawn_failed');
    }
  }

  private async removeMounts(mounts: MaterializedMount[]): Promise<void> {
    for (const mount of mounts) {
      if (mount.kind === 'symlink') {
        // Only remove it if it is still our symlink.
        if (await readlink(mount.target).catch(() => null)) await unlink(mount.target).catch(() => undefined);
      } else {
        await rm(mount.target, { recursive: true, force: true });
      }
    }
  }
}
