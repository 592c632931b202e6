/**
 * `npm start` / `npm run dev`: the one command that runs BuildIt.
 * 1. resolves the database (DATABASE_URL, or an embedded PostgreSQL under $BUILDIT_DATA_DIR/postgres),
 * 2. applies migrations,
 * 3. builds the web app once if no production build exists (`npm start` only),
 * 4. runs the web server and one worker as child processes with prefixed logs,
 * 5. on Ctrl-C / SIGTERM stops the children, then the embedded PostgreSQL, leaving no process behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { workerGraceMsFromEnv } from '../lib/config/env';
import { resolveDatabase } from '../lib/db/bootstrap';
import { migrateDeploy } from '../lib/db/migrate';
import { buildWebIfStale } from './build-web';

const root = path.resolve(import.meta.dirname, '..');
const dev = process.argv.includes('--dev');
const dataDir = path.resolve(root, process.env.BUILDIT_DATA_DIR ?? '.data');
/** How long a child may take to exit after SIGTERM, beyond its own grace period, before it is killed. */
const CHILD_STOP_MARGIN_MS = 10_000;

interface Child {
  name: 'web' | 'worker';
  process: ChildProcess;
  /** Its own shutdown grace (the worker lets running jobs finish); SIGKILL comes CHILD_STOP_MARGIN_MS later. */
  graceMs: number;
}

function say(prefix: string, line: string): void {
  process.stdout.write(`[${prefix}] ${line}\n`);
}

function pipeWithPrefix(child: ChildProcess, prefix: string): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on('line', (line) => say(prefix, line));
  }
}

/** Children get their own process group so a terminal's Ctrl-C reaches only us and we stop them in order. */
function startChild(prefix: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  pipeWithPrefix(child, prefix);
  return child;
}

function waitForExit(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function stopChild({ process: child, graceMs }: Child): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs + CHILD_STOP_MARGIN_MS);
  await waitForExit(child);
  clearTimeout(timer);
}


async function main(): Promise<void> {
  const workerGraceMs = workerGraceMsFromEnv();
  const database = await resolveDatabase({ dataDir });
  const relativeDataDir = path.relative(root, dataDir);
  const shownDataDir = relativeDataDir.startsWith('..') ? dataDir : relativeDataDir || '.';
  say('db', database.embedded ? `embedded PostgreSQL ready (data in ${shownDataDir})` : 'using DATABASE_URL');

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
    for (const child of children) child.process.kill('SIGKILL');
    process.exit(130); // the embedded PostgreSQL gets its SIGINT from the exit hook of lib/db/embedded.ts
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

  try {
    await migrateDeploy(database.url);
    say('db', 'migrations applied');
    const env = { ...process.env, DATABASE_URL: database.url, NODE_ENV: dev ? ('development' as const) : ('production' as const) };
    if (!dev) await buildWebIfStale(env, (line) => say('build', line));
    if (stopping) return;
    children.push({ name: 'web', process: startChild('web', ['--import', 'tsx', 'server.ts'], env), graceMs: 0 });
    children.push({ name: 'worker', process: startChild('worker', ['--import', 'tsx', 'worker/main.ts'], env), graceMs: workerGraceMs });
  } catch (error) {
    say('buildit', `failed to start: ${error instanceof Error ? error.message : String(error)}`);
    await stopAll(1);
    return;
  }
  // One child dying takes the others down: a half-running BuildIt is worse than a clear stop.
  for (const child of children) {
    child.process.once('exit', (code, signal) => {
      if (stopping) return;
      say('buildit', `${child.name} exited (${signal ?? `code ${code}`}); stopping everything`);
      void stopAll(1);
    });
  }
}

main().catch((error: unknown) => {
  // Before anything was started (a bad setting, a database that cannot start): say why and exit.
  say('buildit', `failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
