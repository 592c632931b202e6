// Settings from environment variables, parsed one way, with the error a person can act on when one is malformed.
import path from 'node:path';

/** BUILDIT_DATA_DIR (default `.data`), absolute: where BuildIt keeps its local state (relative to the cwd). */
export function dataDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.BUILDIT_DATA_DIR || '.data');
}

export function intFromEnv(name: string, fallback: number, min: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return n;
}

/** BUILDIT_WORKER_GRACE_MS: on SIGTERM/SIGINT, how long a worker's running jobs may finish (default 30 s). */
export const workerGraceMsFromEnv = (env: NodeJS.ProcessEnv = process.env): number => intFromEnv('BUILDIT_WORKER_GRACE_MS', 30_000, 0, env);

/**
 * A comma-separated list of names from `known` (duplicates dropped), or undefined when unset. An unknown
 * or empty list is an error naming the allowed values; `hint` is added to it.
 */
export function namesFromEnv<T extends string>(name: string, known: readonly T[], env: NodeJS.ProcessEnv = process.env, hint = ''): T[] | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const names = [...new Set(raw.split(',').map((item) => item.trim()).filter(Boolean))];
  const unknown = names.filter((item) => !(known as readonly string[]).includes(item));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(`${name}: unknown value ${unknown.map((item) => `"${item}"`).join(', ') || '(none given)'}${hint}; use a comma-separated list of ${known.join(', ')}`);
  }
  return names as T[];
}

/** Executors a server worker may run stages on. */
export const WORKER_EXECUTOR_NAMES = ['docker', 'local'] as const;
export type WorkerExecutorName = (typeof WORKER_EXECUTOR_NAMES)[number];

/**
 * BUILDIT_WORKER_EXECUTORS (default `docker`). `local` runs stages as processes on the worker's own
 * host, as the worker's user: anyone who may edit a pipeline could then read the worker's files and
 * secrets, so it is off unless the operator turns it on.
 */
export function workerExecutorsFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerExecutorName[] {
  const kubernetes = env.BUILDIT_WORKER_EXECUTORS?.includes('kubernetes') ? ' (the kubernetes executor is not available yet)' : '';
  return namesFromEnv('BUILDIT_WORKER_EXECUTORS', WORKER_EXECUTOR_NAMES, env, kubernetes) ?? ['docker'];
}
