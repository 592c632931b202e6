// Numbers from environment variables, with the error a person can act on when one is malformed.

export function intFromEnv(name: string, fallback: number, min: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return n;
}

/** BUILDIT_WORKER_GRACE_MS: on SIGTERM/SIGINT, how long a worker's running jobs may finish (default 30 s). */
export const workerGraceMsFromEnv = (env: NodeJS.ProcessEnv = process.env): number => intFromEnv('BUILDIT_WORKER_GRACE_MS', 30_000, 0, env);
