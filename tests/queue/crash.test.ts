// Worker processes for real: a worker SIGKILLed while it runs a job loses the job to another worker once
// its lease runs out; worker/main.ts starts, fails jobs it has no handler for, and stops cleanly on SIGTERM.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import readline from 'node:readline';
import { createPool } from '../../lib/db/client';
import type { ClaimedJob } from '../../lib/queue/claim';
import { enqueueJob } from '../../lib/queue/enqueue';
import { JobRunner, type JobOutcome } from '../../lib/queue/runner';
import { createTestDatabase, type TestDatabase } from '../support/db';

const root = path.resolve(import.meta.dirname, '../..');

interface Child {
  proc: ChildProcess;
  lines: string[];
  /** Resolves with the first output line matching `re`. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnTs(script: string, env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (line: string) => void }[] = [];
  for (const stream of [proc.stdout!, proc.stderr!]) {
    readline.createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    });
  }
  const exited = once(proc, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return {
    proc,
    lines,
    exited,
    waitForLine(re, timeoutMs = 30_000) {
      const seen = lines.find((l) => re.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${re} within ${timeoutMs} ms; output:\n${lines.join('\n')}`)), timeoutMs);
        waiters.push({
          re,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        void exited.then(() => setTimeout(() => reject(new Error(`process exited before printing ${re}; output:\n${lines.join('\n')}`)), 100));
      });
    },
  };
}

describe('worker processes', () => {
  let db: TestDatabase;
  const children: Child[] = [];
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await db?.drop();
  });

  test('a worker killed with SIGKILL mid-job: another worker takes the job over after the lease, the first attempt never completes', async () => {
    const { id } = await enqueueJob(db.pool, { kind: 'block', maxAttempts: 3 });
    const child = spawnTs('tests/queue/fixtures/blocking-worker.ts', { DATABASE_URL: db.url, WORKER_ID: 'doomed', LEASE_MS: '1500', HEARTBEAT_MS: '200' });
    children.push(child);
    const started = JSON.parse(await child.waitForLine(/"event":"started"/)) as { id: string; attempt: number };
    assert.deepEqual(started, { event: 'started', id, attempt: 1 });

    const lease = async () =>
      (
        await db.pool.query<{ locked_by: string; lease: string; status: string }>(
          'SELECT locked_by, lease_expires_at::text AS lease, status::text AS status FROM jobs WHERE id = $1',
          [id],
        )
      ).rows[0]!;
    // The child's heartbeats are renewing the lease (so it is their absence that lets the takeover happen).
    const firstLease = (await lease()).lease;
    for (let i = 0; i < 500 && (await lease()).lease === firstLease; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.notEqual((await lease()).lease, firstLease, 'the lease was renewed by a heartbeat');

    child.proc.kill('SIGKILL');
    assert.deepEqual(await child.exited, { code: null, signal: 'SIGKILL' });
    const held = await lease();
    assert.equal(held.status, 'running');
    assert.equal(held.locked_by, 'doomed', 'the dead worker still holds the job until its lease runs out');

    const pool = createPool(db.url, { max: 3 });
    const runs: { job: ClaimedJob; leaseWasOver: boolean }[] = [];
    const runner = new JobRunner({
      pool,
      workerId: 'rescuer',
      leaseMs: 10_000,
      heartbeatMs: 1_000,
      pollMs: 100,
      handlers: {
        block: async (j) => {
          const { rows } = await pool.query<{ over: boolean }>('SELECT now() >= $1::timestamptz AS over', [held.lease]);
          runs.push({ job: j, leaseWasOver: rows[0]!.over });
        },
      },
    });
    try {
      const settled = new Promise<JobOutcome>((resolve) => runner.on('settled', (j, r) => j.id === id && resolve(r)));
      await runner.start();
      assert.deepEqual(await settled, { outcome: 'succeeded' });
    } finally {
      await runner.stop({ graceMs: 0 });
      await pool.end();
    }
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.job.takenOver, true);
    assert.equal(runs[0]!.job.attempts, 2, 'the killed attempt counted');
    assert.equal(runs[0]!.leaseWasOver, true, "taken over only after the dead worker's lease ran out");
    const { rows } = await db.pool.query<{ status: string; attempts: number; locked_by: string; last_error: string }>(
      'SELECT status::text AS status, attempts, locked_by, last_error FROM jobs WHERE id = $1',
      [id],
    );
    assert.deepEqual(rows[0], { status: 'succeeded', attempts: 2, locked_by: 'rescuer', last_error: 'lease expired 1 times (worker crashed?)' });
    assert.ok(!child.lines.some((l) => l.includes('"completed"')), 'the first attempt never completed');
  });

  test('worker/main.ts: ready, fails a job kind it has no handler for, exits 0 on SIGTERM', async () => {
    const worker = spawnTs('worker/main.ts', {
      DATABASE_URL: db.url,
      BUILDIT_WORKER_CONCURRENCY: '2',
      BUILDIT_WORKER_GRACE_MS: '1000',
      BUILDIT_WORKER_ID: 'main-test',
    });
    children.push(worker);
    const ready = JSON.parse(await worker.waitForLine(/worker ready/)) as { concurrency: number; workerId: string };
    assert.equal(ready.concurrency, 2);
    assert.equal(ready.workerId, 'main-test');

    const { id } = await enqueueJob(db.pool, { kind: 'mystery', maxAttempts: 1 });
    let row: { status: string; last_error: string | null } | undefined;
    for (let i = 0; i < 1000; i++) {
      row = (await db.pool.query<{ status: string; last_error: string | null }>('SELECT status::text AS status, last_error FROM jobs WHERE id = $1', [id]))
        .rows[0];
      if (row?.status === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(row?.status, 'failed');
    assert.match(row?.last_error ?? '', /^no handler for job kind "mystery" in worker main-test/);

    worker.proc.kill('SIGTERM');
    assert.deepEqual(await worker.exited, { code: 0, signal: null });
    assert.ok(
      worker.lines.some((l) => l.includes('worker stopped')),
      worker.lines.join('\n'),
    );
  });

  test('worker/main.ts with BUILDIT_WORKER_KINDS=run claims run jobs only; other kinds wait for another worker', async () => {
    const other = await enqueueJob(db.pool, { kind: 'schedule', payload: { pipelineId: 'none', slot: new Date().toISOString() } });
    // A run that does not exist: the handler has nothing to do and the job succeeds.
    const run = await enqueueJob(db.pool, { kind: 'run', payload: { runId: 'no-such-run' } });
    const worker = spawnTs('worker/main.ts', {
      DATABASE_URL: db.url,
      BUILDIT_WORKER_KINDS: ' run, run ',
      BUILDIT_SCHEDULER: 'off',
      BUILDIT_WORKER_GRACE_MS: '1000',
    });
    children.push(worker);
    const ready = JSON.parse(await worker.waitForLine(/worker ready/)) as { kinds: string[] };
    assert.deepEqual(ready.kinds, ['run']);
    const status = async (id: string) =>
      (await db.pool.query<{ status: string }>('SELECT status::text AS status FROM jobs WHERE id = $1', [id])).rows[0]?.status;
    for (let i = 0; i < 500 && (await status(run.id)) !== 'succeeded'; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await status(run.id), 'succeeded');
    // Enqueued first, so a worker claiming every kind would have taken it before the run job.
    assert.equal(await status(other.id), 'queued');
    worker.proc.kill('SIGTERM');
    assert.deepEqual(await worker.exited, { code: 0, signal: null });
  });

  test('worker/main.ts refuses an unknown BUILDIT_WORKER_KINDS entry, naming the kinds it handles', async () => {
    const worker = spawnTs('worker/main.ts', { DATABASE_URL: db.url, BUILDIT_WORKER_KINDS: 'run,deploy' });
    children.push(worker);
    assert.deepEqual(await worker.exited, { code: 1, signal: null });
    assert.ok(
      worker.lines.some((l) =>
        l.includes(
          'BUILDIT_WORKER_KINDS must be a comma-separated list of run, schedule, commit_status, stack_run, stack_drift (the job kinds this worker handles), got \\"run,deploy\\"',
        ),
      ),
      worker.lines.join('\n'),
    );
  });

  test('worker/main.ts refuses a bad BUILDIT_WORKER_CONCURRENCY with a message and exit code 1', async () => {
    const worker = spawnTs('worker/main.ts', { DATABASE_URL: db.url, BUILDIT_WORKER_CONCURRENCY: 'lots' });
    children.push(worker);
    assert.deepEqual(await worker.exited, { code: 1, signal: null });
    assert.ok(
      worker.lines.some((l) => l.includes('BUILDIT_WORKER_CONCURRENCY must be an integer >= 1, got \\"lots\\"')),
      worker.lines.join('\n'),
    );
  });
});
