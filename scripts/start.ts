/**
 * `npm start` / `npm run dev`: the one command that runs BuildIt.
 * 1. resolves the database (DATABASE_URL, or an embedded PostgreSQL under $BUILDIT_DATA_DIR/postgres),
 * 2. applies migrations,
 * 3. builds the web app once if no production build exists (`npm start` only),
 * 4. runs the web server and one worker as child processes with prefixed logs, and restarts either when it
 *    exits on its own (a crash, a kill -9), with backoff,
 * 5. on Ctrl-C / SIGTERM stops the children, then the embedded PostgreSQL, leaving no process behind.
 * Killed itself (SIGKILL: no handler runs), its children and the embedded PostgreSQL notice and stop on their own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { checkServerSettings, dataDirFromEnv, workerGraceMsFromEnv } from '../lib/config/env';
import { resolveDatabase } from '../lib/db/bootstrap';
import { createPool } from '../lib/db/client';
import { migrateDeploy } from '../lib/db/migrate';
import { buildWebIfStale } from './build-web';
import { messageOf } from '../lib/errors';
import { prepareSecretKeys } from '../lib/secrets/startup';

const root = path.resolve(import.meta.dirname, '..');
const dev = process.argv.includes('--dev');
/** How long a child may take to exit after SIGTERM, beyond its own grace period, before it is killed. */
const CHILD_STOP_MARGIN_MS = 10_000;
/** A child that exits on its own is restarted after FIRST_RESTART_DELAY_MS, doubling at each exit up to MAX_RESTART_DELAY_MS ... */
const FIRST_RESTART_DELAY_MS = 1_000;
const MAX_RESTART_DELAY_MS = 30_000;
/** ... and back to the first delay once it ran this long: a crash now and then is not a crash loop. */
const HEALTHY_AFTER_MS = 60_000;

interface Child {
  name: 'web' | 'worker';
  args: string[];
  /** Its own shutdown grace (the worker lets running jobs finish); SIGKILL comes CHILD_STOP_MARGIN_MS later. */
  graceMs: number;
  /** The running process, or the last one while a restart waits. */
  process: ChildProcess | null;
  /** The process that writes its output to ours (startRelay). */
  relay: ChildProcess | null;
  startedAt: number;
  nextRestartDelayMs: number;
  restartTimer?: NodeJS.Timeout;
}

function say(prefix: string, line: string): void {
  process.stdout.write(`[${prefix}] ${line}\n`);
}

/** What a relay runs (node -e): the lines of its stdin, prefixed with `[NAME] `, to its stdout, which is ours. */
const RELAY_SCRIPT =
  "const prefix = `[${process.argv[1]}] `; require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => process.stdout.write(prefix + line + '\\n'));";

/**
 * A process that writes a child's output to our stdout, each line prefixed with the child's name. A process of its
 * own rather than this one: if we are killed (SIGKILL), the child's output keeps a reader, so the lines it writes
 * while it notices and stops still reach the terminal instead of a broken pipe. It ends with that output.
 */
function startRelay(name: Child['name']): ChildProcess {
  return spawn(process.execPath, ['-e', RELAY_SCRIPT, name], { stdio: ['pipe', 'inherit', 'inherit'], detached: true });
}

function newChild(name: Child['name'], script: string, graceMs: number): Child {
  return { name, args: ['--import', 'tsx', script], graceMs, process: null, relay: null, startedAt: 0, nextRestartDelayMs: FIRST_RESTART_DELAY_MS };
}

/**
 * Starts `child`, and again after a delay whenever it exits while BuildIt is not stopping. It (and its relay) get a
 * process group of their own, so that a terminal's Ctrl-C reaches only us and we stop the children in order, and
 * it gets an IPC channel: when that closes, the child knows we are gone, even killed with SIGKILL (onSupervisorGone
 * in lib/system.ts).
 */
function launch(child: Child, env: NodeJS.ProcessEnv, stopping: () => boolean): void {
  const relay = startRelay(child.name);
  const output = relay.stdin!;
  const started = spawn(process.execPath, child.args, { cwd: root, env, stdio: ['ignore', output, output, 'ipc'], detached: true });
  output.destroy(); // the child has its own copy; the relay ends when the child's output does
  child.process = started;
  child.relay = relay;
  child.startedAt = Date.now();
  say('buildit', `${child.name} started (pid ${started.pid})`);
  started.once('exit', (code, signal) => {
    if (stopping()) return;
    if (Date.now() - child.startedAt >= HEALTHY_AFTER_MS) child.nextRestartDelayMs = FIRST_RESTART_DELAY_MS;
    const delayMs = child.nextRestartDelayMs;
    child.nextRestartDelayMs = Math.min(delayMs * 2, MAX_RESTART_DELAY_MS);
    say('buildit', `${child.name} exited (${signal ?? `code ${code}`}); restarting in ${delayMs / 1000} s`);
    child.restartTimer = setTimeout(() => launch(child, env, stopping), delayMs);
  });
}

function waitForExit(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function stopChild({ process: child, relay, graceMs, restartTimer }: Child): Promise<void> {
  clearTimeout(restartTimer);
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs + CHILD_STOP_MARGIN_MS);
    await waitForExit(child);
    clearTimeout(timer);
  }
  if (relay) await waitForExit(relay); // its last lines written
}

async function main(): Promise<void> {
  checkServerSettings();
  const workerGraceMs = workerGraceMsFromEnv();
  const dataDir = dataDirFromEnv();
  const database = await resolveDatabase({ dataDir });
  if (database.clusterDir) {
    const relative = path.relative(root, database.clusterDir);
    say('db', `embedded PostgreSQL ready (data in ${relative.startsWith('..') ? database.clusterDir : relative})`);
  } else {
    say('db', 'using DATABASE_URL');
  }

  let stopping = false;
  const children: Child[] = [];
  const stopAll = async (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    say('buildit', `stopping (running jobs get up to ${Math.round(workerGraceMs / 1000)} s to finish, then go back to the queue; Ctrl-C again stops at once)`);
    await Promise.all(children.map(stopChild));
    await database.stop();
    say('buildit', 'stopped');
    process.exit(exitCode);
  };
  const onSignal = () => {
    if (!stopping) return void stopAll(0);
    // A second Ctrl-C while stopping: the user wants out now.
    for (const child of children) child.process?.kill('SIGKILL');
    process.exit(130); // the embedded PostgreSQL gets its SIGINT from the exit hook of lib/db/embedded.ts
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

  try {
    await migrateDeploy(database.url);
    say('db', 'migrations applied');
    // Here rather than only in the children: a wrong key stops BuildIt once, instead of children restarting in a loop.
    const pool = createPool(database.url, { max: 1 });
    const secretKeys = await prepareSecretKeys(pool, { dataDir }).finally(() => pool.end());
    if (secretKeys.backupNotice) say('secrets', secretKeys.backupNotice);
    // The children run in the repository: given the absolute data dir, they use ours even when our cwd is elsewhere.
    const env = { ...process.env, DATABASE_URL: database.url, BUILDIT_DATA_DIR: dataDir, NODE_ENV: dev ? ('development' as const) : ('production' as const) };
    if (!dev) await buildWebIfStale(env, (line) => say('build', line));
    if (stopping) return;
    children.push(newChild('web', 'server.ts', 0), newChild('worker', 'worker/main.ts', workerGraceMs));
    for (const child of children) launch(child, env, () => stopping);
  } catch (error) {
    say('buildit', `failed to start: ${messageOf(error)}`);
    await stopAll(1);
  }
}

main().catch((error: unknown) => {
  // Before anything was started (a bad setting, a database that cannot start): say why and exit.
  say('buildit', `failed to start: ${messageOf(error)}`);
  process.exit(1);
});
