// Every BuildIt setting read from the environment (the README's configuration table), each parsed here and
// nowhere else. A malformed value throws an Error naming the variable and what it allows, so the process
// fails at start with a message a person can act on. The parsers themselves are in ./parse.ts.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import { intFromEnv, keysFromEnv, namesFromEnv, oneOfFromEnv, stringFromEnv, type Env } from './parse';

export type { Env };

// --- Local state and database -------------------------------------------------------------------------

/**
 * BUILDIT_DATA_DIR (default `.data`), absolute: where BuildIt keeps its local state. A relative path is
 * relative to the working directory, which is the repository under `npm start` (scripts/start.ts passes the
 * absolute path on to the web server and the worker).
 */
export function dataDirFromEnv(env: Env = process.env): string {
  return path.resolve(stringFromEnv('BUILDIT_DATA_DIR', env) ?? '.data');
}

/** DATABASE_URL, or undefined when unset (then BuildIt runs the embedded PostgreSQL). */
export function databaseUrlFromEnv(env: Env = process.env): string | undefined {
  const url = stringFromEnv('DATABASE_URL', env);
  if (url !== undefined && !/^postgres(ql)?:\/\//.test(url)) {
    throw new Error('DATABASE_URL must be a PostgreSQL URL (postgresql://user:password@host:port/database)');
  }
  return url;
}

/** DATABASE_POOL_SIZE: connections per process. */
export const databasePoolSizeFromEnv = (env: Env = process.env): number => intFromEnv('DATABASE_POOL_SIZE', { fallback: 10, min: 1 }, env);

/** BUILDIT_MIGRATIONS_DIR: the prisma/migrations readiness compares the database with; undefined: found next to the code. */
export const migrationsDirFromEnv = (env: Env = process.env): string | undefined => stringFromEnv('BUILDIT_MIGRATIONS_DIR', env);

// --- Secrets ------------------------------------------------------------------------------------------

/** BUILDIT_SECRET_KEY: the key that encrypts tenant secrets (docs/secrets.md); undefined: the key file in the data dir. */
export function secretKeyFromEnv(env: Env = process.env): Buffer | undefined {
  const keys = keysFromEnv('BUILDIT_SECRET_KEY', env);
  if (keys !== undefined && keys.length > 1) {
    throw new Error('BUILDIT_SECRET_KEY must be one key (older keys that must stay readable go in BUILDIT_SECRET_KEY_PREVIOUS)');
  }
  return keys?.[0];
}

/** BUILDIT_SECRET_KEY_PREVIOUS: comma-separated older keys, still read (never used to encrypt) during a key rotation. */
export function previousSecretKeysFromEnv(env: Env = process.env): Buffer[] {
  const keys = keysFromEnv('BUILDIT_SECRET_KEY_PREVIOUS', env) ?? [];
  if (keys.length > 0 && secretKeyFromEnv(env) === undefined) {
    throw new Error('BUILDIT_SECRET_KEY_PREVIOUS needs BUILDIT_SECRET_KEY: the previous keys only decrypt, the current key encrypts');
  }
  return keys;
}

// --- Logs ---------------------------------------------------------------------------------------------

/** pino's levels. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const logLevelFromEnv = (env: Env = process.env): LogLevel => oneOfFromEnv('BUILDIT_LOG_LEVEL', LOG_LEVELS, 'info', env);

// --- Web server ---------------------------------------------------------------------------------------

export const webPortFromEnv = (env: Env = process.env): number => intFromEnv('PORT', { fallback: 3000, min: 1, max: 65_535 }, env);

/** HOST: the address the web server listens on. */
export const webHostFromEnv = (env: Env = process.env): string => stringFromEnv('HOST', env) ?? '0.0.0.0';

/** BUILDIT_BOOTSTRAP_TOKEN: the admin token a fresh install is created with (its shape is checked by lib/auth). */
export const bootstrapTokenFromEnv = (env: Env = process.env): string | undefined => stringFromEnv('BUILDIT_BOOTSTRAP_TOKEN', env);

// --- Sign-in (docs/sign-in.md) ------------------------------------------------------------------------

/**
 * BUILDIT_PUBLIC_URL: the address users reach BuildIt at (`https://ci.example.com`). Sign-in callbacks are
 * built on it, cookies are Secure when it is https, and cookie-authenticated writes must come from its
 * origin. Undefined: `http://localhost:$PORT`.
 */
export function publicUrlFromEnv(env: Env = process.env): URL {
  const text = stringFromEnv('BUILDIT_PUBLIC_URL', env);
  if (text === undefined) return new URL(`http://localhost:${webPortFromEnv(env)}`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`BUILDIT_PUBLIC_URL must be an absolute http(s) URL such as https://ci.example.com (got "${text}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('BUILDIT_PUBLIC_URL must start with http:// or https://');
  return url;
}

export interface OAuthClientSettings {
  clientId: string;
  clientSecret: string;
}

export interface OidcSettings extends OAuthClientSettings {
  issuer: string;
  /** Shown on the sign-in button: "Continue with {name}". */
  name: string;
}

/** Both of `${prefix}_CLIENT_ID` and `${prefix}_CLIENT_SECRET`, or neither. */
function oauthClientFromEnv(prefix: string, env: Env): OAuthClientSettings | undefined {
  const clientId = stringFromEnv(`${prefix}_CLIENT_ID`, env);
  const clientSecret = stringFromEnv(`${prefix}_CLIENT_SECRET`, env);
  if (clientId === undefined && clientSecret === undefined) return undefined;
  if (clientId === undefined || clientSecret === undefined) throw new Error(`${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET are set together`);
  return { clientId, clientSecret };
}

/** BUILDIT_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET (and _NAME): any OpenID Connect provider. */
export function oidcFromEnv(env: Env = process.env): OidcSettings | undefined {
  const issuer = stringFromEnv('BUILDIT_OIDC_ISSUER', env);
  const client = oauthClientFromEnv('BUILDIT_OIDC', env);
  if (issuer === undefined && client === undefined) return undefined;
  if (issuer === undefined || client === undefined) {
    throw new Error('OpenID Connect sign-in needs BUILDIT_OIDC_ISSUER, BUILDIT_OIDC_CLIENT_ID and BUILDIT_OIDC_CLIENT_SECRET together');
  }
  if (!/^https?:\/\//.test(issuer)) throw new Error(`BUILDIT_OIDC_ISSUER must be the issuer's URL (https://id.example.com/realms/main), got "${issuer}"`);
  return { issuer: issuer.replace(/\/+$/, ''), ...client, name: stringFromEnv('BUILDIT_OIDC_NAME', env) ?? 'OpenID Connect' };
}

/** BUILDIT_GITHUB_CLIENT_ID / _SECRET: sign-in with GitHub. */
export const githubFromEnv = (env: Env = process.env): OAuthClientSettings | undefined => oauthClientFromEnv('BUILDIT_GITHUB', env);

/** BUILDIT_GOOGLE_CLIENT_ID / _SECRET: sign-in with Google. */
export const googleFromEnv = (env: Env = process.env): OAuthClientSettings | undefined => oauthClientFromEnv('BUILDIT_GOOGLE', env);

/** BUILDIT_PASSWORD_SIGNIN (default `on`): `off` turns email + password sign-in off once a provider is set up. */
export const passwordSignInFromEnv = (env: Env = process.env): boolean => oneOfFromEnv('BUILDIT_PASSWORD_SIGNIN', ['on', 'off'], 'on', env) === 'on';

/** BUILDIT_ADMIN_EMAIL + BUILDIT_ADMIN_PASSWORD: the first organization's owner, created unattended (as the setup page does). */
export function adminFromEnv(env: Env = process.env): { email: string; password: string } | undefined {
  const email = stringFromEnv('BUILDIT_ADMIN_EMAIL', env);
  const password = stringFromEnv('BUILDIT_ADMIN_PASSWORD', env);
  if (email === undefined && password === undefined) return undefined;
  if (email === undefined || password === undefined) throw new Error('BUILDIT_ADMIN_EMAIL and BUILDIT_ADMIN_PASSWORD are set together');
  return { email, password };
}

/** BUILDIT_AUTH_SECRET: signs the session cookies; undefined: derived from the secret key (docs/sign-in.md). */
export const authSecretFromEnv = (env: Env = process.env): string | undefined => stringFromEnv('BUILDIT_AUTH_SECRET', env);

// --- Source -----------------------------------------------------------------------------------------

/**
 * BUILDIT_FILE_REPOSITORIES (default `off`): whether pipelines may name `file://` repositories (and whether
 * their submodules may). A file:// URL reads any path of the web server's and the worker's host, other
 * tenants' mirrors among them, so a shared server keeps it off; a single-team install may turn it on.
 */
export const fileRepositoriesFromEnv = (env: Env = process.env): boolean => oneOfFromEnv('BUILDIT_FILE_REPOSITORIES', ['on', 'off'], 'off', env) === 'on';

// --- Worker -------------------------------------------------------------------------------------------

/** BUILDIT_WORKER_ID: the worker's name in job leases and logs; default host, pid and a random suffix. */
export const workerIdFromEnv = (env: Env = process.env): string =>
  stringFromEnv('BUILDIT_WORKER_ID', env) ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;

/** BUILDIT_WORKER_CONCURRENCY: jobs one worker runs at once. */
export const workerConcurrencyFromEnv = (env: Env = process.env): number => intFromEnv('BUILDIT_WORKER_CONCURRENCY', { fallback: 4, min: 1 }, env);

/** BUILDIT_WORKER_GRACE_MS: on SIGTERM/SIGINT, how long a worker's running jobs may finish (default 30 s). */
export const workerGraceMsFromEnv = (env: Env = process.env): number => intFromEnv('BUILDIT_WORKER_GRACE_MS', { fallback: 30_000, min: 0 }, env);

/** BUILDIT_WORKER_LEASE_MS: a crashed worker's job is taken over this long after its last heartbeat. */
export const workerLeaseMsFromEnv = (env: Env = process.env): number => intFromEnv('BUILDIT_WORKER_LEASE_MS', { fallback: 15_000, min: 300 }, env);

/** BUILDIT_SCHEDULER: `off` keeps this worker out of the cron scheduler's election. */
export const schedulerEnabledFromEnv = (env: Env = process.env): boolean => oneOfFromEnv('BUILDIT_SCHEDULER', ['on', 'off'], 'on', env) === 'on';

/** Executors a server worker may run stages on. */
export const WORKER_EXECUTOR_NAMES = ['docker', 'local'] as const;
export type WorkerExecutorName = (typeof WORKER_EXECUTOR_NAMES)[number];

/**
 * BUILDIT_WORKER_EXECUTORS (default `docker`). `local` runs stages as processes on the worker's own
 * host, as the worker's user: anyone who may edit a pipeline could then read the worker's files and
 * secrets, so it is off unless the operator turns it on.
 */
export function workerExecutorsFromEnv(env: Env = process.env): WorkerExecutorName[] {
  const hint = env.BUILDIT_WORKER_EXECUTORS?.includes('kubernetes') ? 'the kubernetes executor is not available yet' : undefined;
  return namesFromEnv('BUILDIT_WORKER_EXECUTORS', WORKER_EXECUTOR_NAMES, env, hint) ?? ['docker'];
}

/** BUILDIT_WORKER_KINDS: the job kinds a worker claims, checked against those it has handlers for; undefined: every kind. */
export function workerKindsFromEnv(known: readonly string[], env: Env = process.env): string[] | undefined {
  return namesFromEnv('BUILDIT_WORKER_KINDS', known, env, 'the job kinds this worker handles');
}

/** BUILDIT_LOG_CAP_BYTES: the log kept per stage (lib/runs/log-cap.ts), 100 MiB by default. */
export const logCapBytesFromEnv = (env: Env = process.env): number =>
  intFromEnv('BUILDIT_LOG_CAP_BYTES', { fallback: 100 * 1024 * 1024, min: 1, hint: 'bytes: 104857600 is 100 MiB' }, env);

/** BUILDIT_DB_RETRY_MS: how long one write of a run's events is retried while the database is unreachable; 0: never. */
export const dbRetryMsFromEnv = (env: Env = process.env): number => intFromEnv('BUILDIT_DB_RETRY_MS', { fallback: 60_000, min: 0, hint: 'milliseconds' }, env);

/**
 * Parses every setting of the web server and the worker, for `npm start` to refuse a malformed one before it
 * starts them (a child that failed on it at every start would only be restarted over and over).
 */
export function checkServerSettings(env: Env = process.env): void {
  for (const parse of [
    databaseUrlFromEnv,
    databasePoolSizeFromEnv,
    secretKeyFromEnv,
    previousSecretKeysFromEnv,
    logLevelFromEnv,
    webPortFromEnv,
    publicUrlFromEnv,
    oidcFromEnv,
    githubFromEnv,
    googleFromEnv,
    passwordSignInFromEnv,
    adminFromEnv,
    fileRepositoriesFromEnv,
    workerConcurrencyFromEnv,
    workerGraceMsFromEnv,
    workerLeaseMsFromEnv,
    schedulerEnabledFromEnv,
    workerExecutorsFromEnv,
    logCapBytesFromEnv,
    dbRetryMsFromEnv,
  ]) {
    parse(env);
  }
}
