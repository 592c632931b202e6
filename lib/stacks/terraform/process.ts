/**
 * One terraform command as a child process: its output line by line, and a stop that lets terraform stop
 * the way it wants (SIGINT: it finishes the current operation, writes the state, releases its lock) and
 * kills it only when it does not within the grace period.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface TerraformCommand {
  binary: string;
  cwd: string;
  args: string[];
  /** Added to a minimal environment (PATH, HOME): the worker's own variables (DATABASE_URL) are not passed on. */
  env: Record<string, string>;
  onLine: (stream: 'stdout' | 'stderr', line: string) => void;
  /** Aborting it stops terraform: SIGINT, then SIGKILL after graceMs. */
  signal: AbortSignal;
  graceMs: number;
}

export interface TerraformExit {
  code: number | null;
  /** The process was stopped through the signal (code is then whatever terraform returned, or null). */
  stopped: boolean;
  /** It ignored SIGINT for graceMs and was killed. */
  killed: boolean;
}

/** Next's types make NODE_ENV a required key of every environment; a child's own is a plain record. */
export const childEnv = (env: Record<string, string>) => env as unknown as NodeJS.ProcessEnv;

export function runTerraform(command: TerraformCommand): Promise<TerraformExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(command.binary, command.args, {
      cwd: command.cwd,
      env: childEnv({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: command.cwd, ...command.env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stopped = false;
    let killed = false;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      child.kill('SIGINT');
      killTimer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, command.graceMs);
    };
    if (command.signal.aborted) stop();
    else command.signal.addEventListener('abort', stop, { once: true });
    const out = createInterface({ input: child.stdout });
    const err = createInterface({ input: child.stderr });
    out.on('line', (line) => command.onLine('stdout', line));
    err.on('line', (line) => command.onLine('stderr', line));
    const closed = Promise.all([new Promise((r) => out.once('close', r)), new Promise((r) => err.once('close', r))]);
    child.once('error', (error) => {
      command.signal.removeEventListener('abort', stop);
      clearTimeout(killTimer);
      reject(new Error(`cannot run ${command.binary}: ${error.message} (set BUILDIT_TERRAFORM_BIN to the terraform binary)`));
    });
    child.once('exit', (code) => {
      command.signal.removeEventListener('abort', stop);
      clearTimeout(killTimer);
      void closed.then(() => resolve({ code, stopped, killed }));
    });
  });
}
