/**
 * Host processes in a process group of their own, for the local executor: started with Node's spawn
 * (`detached`: a new session and process group, so pgid === pid and a terminal's Ctrl-C never reaches
 * them), stopped as a group.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { sleep } from '../../async';

/** How a started process ended: its exit code, or the number of the signal that ended it. */
export interface ProcessEnd {
  code: number | null;
  signal: number | null;
}

export interface GroupLeader {
  /** Also the process group id. */
  pid: number;
  stdout: Readable;
  stderr: Readable;
  ended: Promise<ProcessEnd>;
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

/** Starts `file` (shown as `argv[0]`) as the leader of a new process group; stdin is /dev/null. */
export async function startGroupLeader(file: string, argv: string[], cwd: string, env: Record<string, string>): Promise<GroupLeader> {
  const child = spawn(file, argv.slice(1), { argv0: argv[0], cwd, env: env as NodeJS.ProcessEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const failed = await new Promise<Error | null>((resolve) => {
    child.once('spawn', () => resolve(null));
    child.once('error', (error) => resolve(error));
  });
  if (failed || child.pid === undefined) throw failed ?? new Error('no pid');
  const ended = new Promise<ProcessEnd>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal: signal ? (SIGNAL_NUMBERS[signal] ?? 0) : null }));
  });
  return { pid: child.pid, stdout: child.stdout!, stderr: child.stderr!, ended };
}

/** Sends `signal` to every process of the group; false when the group is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** signalGroup for cleanup paths, where a group that is gone or not ours any more is not an error. */
export function killGroupQuietly(pgid: number): void {
  try {
    signalGroup(pgid, 'SIGKILL');
  } catch {
    /* gone or not ours */
  }
}

/**
 * SIGTERM — to the leader alone when it forwards it to its group itself (the stage runner), else to the
 * whole group — then SIGKILL to the whole group after `graceMs`; resolves when `done()` (or 5 s after
 * the SIGKILL, whatever the group does).
 */
export async function terminateGroup(options: {
  pgid: number;
  leaderOnly: boolean;
  graceMs: number;
  done: () => boolean;
  exited: Promise<unknown>;
}): Promise<void> {
  const { pgid, done, exited } = options;
  let delivered = false;
  try {
    if (options.leaderOnly) process.kill(pgid, 'SIGTERM');
    delivered = options.leaderOnly || signalGroup(pgid, 'SIGTERM');
  } catch {
    // The leader is gone; whatever is left of its group gets the TERM directly.
  }
  if (!delivered) {
    try {
      if (!signalGroup(pgid, 'SIGTERM')) return;
    } catch {
      return;
    }
  }
  const waitUntil = async (deadline: number, step: number) => {
    while (!done() && Date.now() < deadline) await Promise.race([sleep(Math.min(step, Math.max(1, deadline - Date.now()))), exited]);
  };
  await waitUntil(Date.now() + options.graceMs, 50);
  if (done()) return;
  killGroupQuietly(pgid);
  await waitUntil(Date.now() + 5000, 20);
}
