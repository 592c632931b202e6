/**
 * Shared setup of the benchmarks that need PostgreSQL (queue, server-latency, server-logs):
 *
 * - `benchDatabase()`: a fresh migrated database (tests/support/db.ts: BUILDIT_TEST_PG_URL, or a throwaway
 *   server started for this process and stopped by the last drop()).
 * - `onCleanup()` / `cleanup()`: everything a benchmark starts (worker process, HTTP server, temp dirs, the
 *   database) is registered here and torn down in reverse order, also on Ctrl-C / SIGTERM.
 * - `seedBenchTenant()`: an organization, tenant, owner and admin API token, with the Actor the API would
 *   authenticate from that token (for `triggerRun` and Socket.IO).
 * - `startWorkerProcess()`: the real worker (worker/main.ts: JobRunner + run handler + Socket.IO publisher)
 *   as a child process on that database, as `npm start` runs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createApiKey } from '../lib/auth/api-keys';
import { authenticateToken } from '../lib/auth/authenticate';
import type { Actor } from '../lib/auth/authorize';
import type { PrismaClient } from '../lib/generated/prisma/client';
import { createTestDatabase, type TestDatabase } from '../tests/support/db';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const cleanups: (() => Promise<void> | void)[] = [];
let signalsHooked = false;

/** Registers a teardown step; `cleanup()` runs them last-registered first. */
export function onCleanup(step: () => Promise<void> | void): void {
  cleanups.push(step);
  if (signalsHooked) return;
  signalsHooked = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  }
}

/** Runs every registered teardown step once (errors are reported, not thrown, so every step runs). */
export async function cleanup(): Promise<void> {
  while (cleanups.length > 0) {
    const step = cleanups.pop()!;
    try {
      await step();
    } catch (error) {
      console.error('cleanup step failed:', error);
    }
  }
}

/** A fresh migrated database, dropped (with its throwaway server, if this process started one) by cleanup(). */
export async function benchDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  onCleanup(() => db.drop());
  return db;
}

export interface BenchTenant {
  tenantId: string;
  /** A plain admin API token (Socket.IO handshake). */
  token: string;
  /** What the API authenticates from `token`. */
  actor: Actor;
}

export async function seedBenchTenant(prisma: PrismaClient): Promise<BenchTenant> {
  const suffix = randomBytes(4).toString('hex');
  const org = await prisma.organization.create({ data: { slug: `bench-${suffix}`, name: 'Bench' } });
  const tenant = await prisma.tenant.create({ data: { organizationId: org.id, slug: 'main', name: 'Main' } });
  const user = await prisma.user.create({ data: { email: `bench-${suffix}@example.test` } });
  await prisma.orgMembership.create({ data: { organizationId: org.id, userId: user.id, role: 'owner' } });
  const { token } = await createApiKey(prisma, { organizationId: org.id, userId: user.id, name: 'bench', scopes: ['admin'] });
  return { tenantId: tenant.id, token, actor: await authenticateToken(prisma, token) };
}

export async function createBenchPipeline(prisma: PrismaClient, tenantId: string, kdl: string): Promise<string> {
  const pipeline = await prisma.pipeline.create({ data: { tenantId, name: 'bench', slug: `bench-${randomBytes(4).toString('hex')}`, config: kdl } });
  return pipeline.id;
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Its last output lines (JSON logs), for error messages. */
  output(): string;
  /** SIGTERM (graceful stop), then SIGKILL after `timeoutMs`; resolves when it has exited. */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Starts worker/main.ts on `databaseUrl` and waits for its `worker ready` log line. Extra Node flags
 * (e.g. `--cpu-prof`) go in `nodeArgs`. Registered with onCleanup.
 */
export async function startWorkerProcess(options: {
  databaseUrl: string;
  dataDir: string;
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** Each line the worker writes (its JSON logs), as it comes. */
  onLine?: (line: string) => void;
}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', 'worker/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: options.databaseUrl,
      BUILDIT_DATA_DIR: options.dataDir,
      BUILDIT_WORKER_GRACE_MS: '2000',
      // The benchmarks measure BuildIt's own overhead on host processes (no container start in the figures).
      BUILDIT_WORKER_EXECUTORS: 'docker,local',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let ready: () => void = () => {};
  const readyPromise = new Promise<void>((resolve) => (ready = resolve));
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      if (lines.length > 200) lines.shift();
      options.onLine?.(line);
      if (line.includes('"worker ready"')) ready();
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const output = () => lines.join('\n');
  const stop = async (timeoutMs = 10_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    // What the worker started (the local executor's perl spawn helpers) must not outlive it.
    const started = descendants(child.pid!);
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
    // An idle spawn helper ends by itself once the worker's end of its stdin closes: give it a moment.
    const stillThere = () => started.filter((p) => startTime(p.pid) === p.startTime);
    for (let i = 0; i < 60 && stillThere().length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const left = stillThere();
    if (left.length > 0) {
      console.log(
        `(the worker left ${left.length} process(es) running 3 s after it exited: ${left.map((p) => `${p.pid} ${p.argv[0] ?? '?'}`).join(', ')}; killed)`,
      );
      for (const p of left) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
        // A killed spawn helper cannot remove its FIFO directory (its last argument) any more.
        const dir = p.argv.at(-1);
        if (p.argv[0] === 'perl' && dir && /[/]buildit-spawn-[^/]+$/.test(dir)) rmSync(dir, { recursive: true, force: true });
      }
    }
  };
  onCleanup(() => stop());
  const startTimeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`the worker did not get ready within 60 s:\n${output()}`)), 60_000).unref(),
  );
  const earlyExit = exited.then(() => {
    throw new Error(`the worker exited before it was ready (${child.exitCode ?? child.signalCode}):\n${output()}`);
  });
  earlyExit.catch(() => {}); // it also rejects at the normal stop, long after the race
  await Promise.race([readyPromise, startTimeout, earlyExit]);
  return { child, output, stop };
}

/** The process's start time (field 22 of /proc/PID/stat), to tell it from a later process with the same pid; null when gone. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Every live descendant of `pid` (Linux /proc), with its start time. */
function descendants(pid: number): { pid: number; startTime: string; argv: string[] }[] {
  const found: { pid: number; startTime: string; argv: string[] }[] = [];
  const visit = (parent: number) => {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${parent}/task`);
    } catch {
      return;
    }
    for (const task of tasks) {
      let children: string;
      try {
        children = readFileSync(`/proc/${parent}/task/${task}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const child of children.split(' ').filter(Boolean).map(Number)) {
        const time = startTime(child);
        if (time === null) continue;
        let argv: string[] = [];
        try {
          argv = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').slice(0, -1);
        } catch {
          // gone meanwhile
        }
        found.push({ pid: child, startTime: time, argv });
        visit(child);
      }
    }
  };
  visit(pid);
  return found;
}
