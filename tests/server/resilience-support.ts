/**
 * Support for the server-mode resilience tests (PostgreSQL restart, worker SIGKILL, concurrent triggers):
 * real `worker/main.ts` processes, polling with generous deadlines, the REST API with a bootstrap token,
 * and what Docker saw of a run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type Docker from 'dockerode';
import type { TestContext } from 'node:test';
import { createPool } from '../../lib/db/client';
import { ensureTemplate, TEMPLATE_DATABASE, withDatabase } from '../support/db';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/postgres';

const root = path.resolve(import.meta.dirname, '../..');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Cleanup steps run in REVERSE order of registration (like `defer`), all of them even when one fails, from
 * one `t.after`: what was started last (a worker) stops before what it uses (the database server).
 */
export class Cleanup {
  private readonly steps: Array<() => unknown> = [];

  constructor(t: TestContext) {
    t.after(async () => {
      const errors: unknown[] = [];
      for (const step of this.steps.reverse()) {
        try {
          await step();
        } catch (error) {
          errors.push(error);
        }
      }
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, 'several cleanup steps failed');
    });
  }

  defer(step: () => unknown): void {
    this.steps.push(step);
  }
}

/**
 * A migrated database on a PostgreSQL server of the test's own, so the test may restart it (a restart would
 * break every other test file's database), with synchronous_commit=on: the throwaway server runs with it
 * off, and a crash could then lose commits the worker was told about, as no production server would.
 */
export async function restartableDatabase(cleanup: Cleanup, name: string): Promise<{ server: ThrowawayPostgres; url: string }> {
  const server = await startThrowawayPostgres();
  cleanup.defer(() => server.stop());
  await ensureTemplate(server.adminUrl);
  const admin = createPool(server.adminUrl, { max: 1 });
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DATABASE}`);
    await admin.query(`ALTER DATABASE ${name} SET synchronous_commit = on`);
  } finally {
    await admin.end();
  }
  return { server, url: withDatabase(server.adminUrl, name) };
}

export interface WorkerProcess {
  id: string;
  process: ChildProcess;
  /** Every line the worker printed (pino JSON), stdout and stderr. */
  output: string[];
  /** True once the process has exited (for any reason). */
  readonly exited: boolean;
  /** Resolves with the exit signal (or code) once the process has exited. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `node --import tsx worker/main.ts` with BUILDIT_WORKER_ID=id and `env` on top of this process's
 * environment (DOCKER_HOST included). At cleanup it is SIGKILLed if it is still running.
 */
export function startWorker(cleanup: Cleanup, id: string, env: Readonly<Record<string, string>>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
    cwd: root,
    env: { ...process.env, BUILDIT_WORKER_ID: id, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (line) => output.push(line));
  let exited = false;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      resolve({ code, signal });
    }),
  );
  cleanup.defer(async () => {
    if (!exited) {
      child.kill('SIGKILL');
      await exit;
    }
  });
  return {
    id,
    process: child,
    output,
    get exited() {
      return exited;
    },
    exit,
  };
}

/** Stops a worker gracefully (SIGTERM); SIGKILL if it has not exited after `graceMs`. */
export async function stopWorker(worker: WorkerProcess, graceMs = 20_000): Promise<void> {
  if (worker.exited) return;
  worker.process.kill('SIGTERM');
  const timer = setTimeout(() => worker.process.kill('SIGKILL'), graceMs);
  await worker.exit;
  clearTimeout(timer);
}

/** The worker's log messages (pino `msg`), for assertions and diagnostics. */
export function logMessages(worker: WorkerProcess): string[] {
  return worker.output.map((line) => {
    try {
      return String((JSON.parse(line) as { msg?: unknown }).msg ?? line);
    } catch {
      return line;
    }
  });
}

/**
 * Polls `check` until it returns a truthy value. Errors from `check` count as "not yet" (the database may be
 * restarting); the last one is reported if the deadline passes.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; context?: () => string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out waiting for ${what}${cause}${options.context ? `\n${options.context()}` : ''}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}

/** `count` numbered lines `line-1`..`line-N`. */
export const numberedLines = (count: number, prefix = 'line-') => Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);

/** A shell loop printing `line-1`..`line-N`, sleeping between lines. */
export const printNumberedLines = (count: number, sleepSeconds: number) =>
  `i=1; while [ $i -le ${count} ]; do echo line-$i; i=$((i+1)); sleep ${sleepSeconds}; done`;

/** Container `create` events the engine recorded for a run between `sinceMs` and now (all stages, or one). */
export async function containersCreated(docker: Docker, runId: string, sinceMs: number, stage?: string): Promise<string[]> {
  const labels = [`buildit.run=${runId}`, ...(stage ? [`buildit.stage=${stage}`] : [])];
  const stream = (await docker.getEvents({
    since: Math.floor(sinceMs / 1000) - 1,
    until: Math.ceil(Date.now() / 1000) + 1,
    filters: { type: ['container'], event: ['create'], label: labels },
  })) as NodeJS.ReadableStream;
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { id?: string; Actor?: { ID?: string } }).Actor?.ID ?? '');
}

/** Bearer-token calls to the REST API of a started BuildIt. */
export function apiClient(base: string, token: string) {
  return async function api<T>(method: string, route: string, body?: unknown): Promise<{ status: number; json: T }> {
    const response = await fetch(`${base}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as T };
  };
}
