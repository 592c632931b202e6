// worker/main.ts with the scheduler wired in, as processes: two workers elect one scheduler, which creates
// (through the `schedule` job) and runs a scheduled run; SIGTERM hands the lock to the other worker at
// once; BUILDIT_SCHEDULER=off keeps a worker out of the election.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { SCHEDULER_LOCK } from '../../lib/schedule/scheduler';
import { createTestDatabase, type TestDatabase } from '../support/db';

const root = path.resolve(import.meta.dirname, '../..');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

interface Worker {
  id: string;
  proc: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

describe('worker/main.ts scheduler wiring', () => {
  let db: TestDatabase;
  let dataDir: string;
  const workers: Worker[] = [];

  before(async () => {
    db = await createTestDatabase();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'buildit-schedule-'));
  });
  after(async () => {
    for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL');
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function startWorker(id: string, env: Record<string, string> = {}): Worker {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        BUILDIT_WORKER_ID: id,
        BUILDIT_WORKER_GRACE_MS: '2000',
        BUILDIT_DATA_DIR: dataDir,
        BUILDIT_WORKER_EXECUTORS: 'docker,local',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    for (const stream of [proc.stdout, proc.stderr]) readline.createInterface({ input: stream }).on('line', (line) => lines.push(line));
    const worker = { id, proc, lines, exited: once(proc, 'exit').then(([code]) => code as number | null) };
    workers.push(worker);
    return worker;
  }

  /** Worker ids (application_name is the scheduler's; the worker id is in its logs) of the lock holders. */
  async function lockHolderPids(): Promise<number[]> {
    const { rows } = await db.pool.query<{ pid: number }>(
      `SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 2 AND l.granted
          AND a.datname = current_database() AND a.application_name = 'buildit-scheduler'`,
      [...SCHEDULER_LOCK],
    );
    return rows.map((r) => r.pid);
  }

  const elected = (w: Worker) => w.lines.filter((l) => l.includes('"scheduler elected"')).length;

  test('one of two workers is elected and creates and runs the scheduled run; SIGTERM hands over; off stays out', async () => {
    const org = await db.prisma.organization.create({ data: { slug: `org-${randomBytes(4).toString('hex')}`, name: 'Org' } });
    const tenant = await db.prisma.tenant.create({ data: { organizationId: org.id, slug: 'main', name: 'Main' } });
    // Created (and last changed) an hour ago, every minute: the first tick after the election catches up on the
    // latest slot. A pipeline changed just now would wait for the next minute (the catch-up stops at a change).
    const pipeline = await db.prisma.pipeline.create({
      data: {
        tenantId: tenant.id,
        name: 'nightly',
        slug: 'nightly',
        createdAt: new Date(Date.now() - 3_600_000),
        updatedAt: new Date(Date.now() - 3_600_000),
        config: 'pipeline "nightly" {\n    on "schedule" cron="* * * * *"\n}\nstage "hello" {\n    executor "local"\n    run "echo scheduled hello"\n}\n',
      },
    });

    const off = startWorker('sched-off', { BUILDIT_SCHEDULER: 'off' });
    const a = startWorker('sched-a');
    const b = startWorker('sched-b');

    const run = await waitFor(
      'a scheduled run that succeeded',
      async () => {
        const r = await db.prisma.pipelineRun.findFirst({ where: { pipelineId: pipeline.id }, orderBy: { number: 'asc' }, include: { stages: true } });
        return r?.status === 'succeeded' ? r : null;
      },
      60_000,
    );
    assert.equal(run.event, 'schedule');
    assert.equal(run.triggeredBy, 'schedule');
    assert.deepEqual(
      run.stages.map((s) => [s.stageId, s.status]),
      [['hello', 'succeeded']],
    );

    await waitFor('all three workers ready', () => [off, a, b].every((w) => w.lines.some((l) => l.includes('"worker ready"'))));
    assert.equal((await lockHolderPids()).length, 1);
    assert.equal(elected(a) + elected(b), 1, 'exactly one scheduler elected');
    assert.equal(elected(off), 0);
    assert.ok(off.lines.some((l) => l.includes('scheduler disabled')));

    // SIGTERM to the elected worker: its lock is released on the way out, the other takes over right
    // away (well within its 5 s retry, plus startup noise).
    const [leader, other] = elected(a) ? [a, b] : [b, a];
    const [oldPid] = await lockHolderPids();
    leader.proc.kill('SIGTERM');
    assert.equal(await leader.exited, 0);
    assert.ok(leader.lines.some((l) => l.includes('scheduler stopped; lock released')));
    await waitFor('the other worker to be elected', () => elected(other) === 1, 15_000);
    const holders = await lockHolderPids();
    assert.equal(holders.length, 1);
    assert.notEqual(holders[0], oldPid);

    for (const w of [other, off]) w.proc.kill('SIGTERM');
    assert.deepEqual(await Promise.all([other.exited, off.exited]), [0, 0]);
    assert.deepEqual(await lockHolderPids(), []);

    // One run per slot (a minute boundary during the test adds a slot, never a second run for one).
    const { rows: jobs } = await db.pool.query<{ slot: string; run_id: string | null }>(
      `SELECT payload->>'slot' AS slot, payload->>'runId' AS run_id FROM jobs WHERE kind = 'schedule'`,
    );
    const runs = await db.prisma.pipelineRun.findMany({ where: { pipelineId: pipeline.id }, select: { id: true, event: true } });
    assert.ok(jobs.length >= 1);
    assert.equal(new Set(jobs.map((j) => j.slot)).size, jobs.length);
    assert.deepEqual(runs.map((r) => r.id).sort(), jobs.flatMap((j) => (j.run_id ? [j.run_id] : [])).sort());
    assert.ok(runs.every((r) => r.event === 'schedule'));
  });
});
