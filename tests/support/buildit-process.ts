/**
 * A whole BuildIt (scripts/start.ts: web + worker, and the embedded PostgreSQL unless DATABASE_URL is
 * set) as a child process, for end-to-end tests.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { pinToCpu } from './cpu';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { sleep } from '../../lib/async';

const root = path.resolve(import.meta.dirname, '../..');
const READY_TIMEOUT_MS = 240_000;
const STOP_TIMEOUT_MS = 30_000;

export interface StartedBuildIt {
  process: ChildProcess;
  port: number;
  output: string[];
}

/** `npm start` of this repository, or with `cwd` of another checkout (a copy of it). */
/** `niceness`: BuildIt's CPU priority, `cpu`: the one CPU it runs on (web and worker inherit both: they start after). */
export function startBuildIt(
  env: NodeJS.ProcessEnv,
  port: number,
  options: { cwd?: string; niceness?: number; cpu?: number | undefined } = {},
): StartedBuildIt {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: options.cwd ?? root,
    env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A process group of its own, like a command started from a shell: stopWith(..., { group: true }) signals all of it.
    detached: true,
  });
  if (options.niceness !== undefined && child.pid !== undefined) setPriority(child.pid, options.niceness);
  if (options.cpu !== undefined && child.pid !== undefined) pinToCpu(child.pid, options.cpu);
  const output: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (line) => output.push(line));
  return { process: child, port, output };
}

export async function fetchStatus(url: string): Promise<number | null> {
  try {
    const response = await fetch(url);
    await response.body?.cancel();
    return response.status;
  } catch {
    return null;
  }
}

export async function waitForReady(started: StartedBuildIt): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (started.process.exitCode !== null) {
      assert.fail(`npm start exited early (${started.process.exitCode}):\n${started.output.join('\n')}`);
    }
    if ((await fetchStatus(`http://127.0.0.1:${started.port}/health/ready`)) === 200) return;
    await sleep(250);
  }
  assert.fail(`/health/ready did not answer 200 within ${READY_TIMEOUT_MS} ms:\n${started.output.join('\n')}`);
}

/**
 * Sends `signal` to the start script, or with `group` to its whole process group, as a Ctrl-C in a terminal
 * does (every process of the foreground group gets SIGINT); resolves with its exit code.
 */
export async function stopWith(started: StartedBuildIt, signal: NodeJS.Signals, options: { group?: boolean } = {}): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => started.process.once('exit', (code) => resolve(code)));
  if (options.group) process.kill(-started.process.pid!, signal);
  else started.process.kill(signal);
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS).unref());
  const result = await Promise.race([exited, timeout]);
  assert.notEqual(result, 'timeout', `npm start did not stop within ${STOP_TIMEOUT_MS} ms after ${signal}`);
  return result as number | null;
}

/** Every process whose command line or environment mentions `marker` (a unique temp path). */
export function processesMentioning(marker: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    if (Number(pid) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      if (cmdline.includes(marker) || environ.includes(marker)) found.push(`${pid}: ${cmdline.replaceAll('\0', ' ')}`);
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}
