// JobRunner against a real PostgreSQL: handlers, retries, heartbeats, graceful stop, NOTIFY wake-ups,
// listener reconnects, and many runners sharing one queue. Waits are bounded by generous timeouts that only
// turn a hang into a failure; no assertion is about how long something took.
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type pg from 'pg';
import { sleep } from '../async';
import { createPool } from '../db/client';
import { createTestDatabase, type TestDatabase } from '../../tests/support/db';
import type { ClaimedJob } from './claim';
import { enqueueJob } from './enqueue';
import { JOBS_CHANNEL } from './listen';
import { JobRunner, type JobContext, type JobOutcome, type JobRunnerOptions } from './runner';

async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Resolves with the outcome of `jobId` on `runner`. */
function settledOf(runner: JobRunner, jobId: string): Promise<JobOutcome> {
  return new Promise((resolve) => {
    const onSettled = (job: ClaimedJob, result: JobOutcome) => {
      if (job.id !== jobId) return;
      runner.off('settled', onSettled);
      resolve(result);
    };
    runner.on('settled', onSettled);
  });
}

describe('JobRunner', () => {
  let db: TestDatabase;
  let runners: JobRunner[] = [];
  let pools: pg.Pool[] = [];

  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db?.drop();
  });
  beforeEach(async () => {
    await db.pool.query('DELETE FROM jobs');
  });
  afterEach(async () => {
    await Promise.all(runners.map((r) => r.stop({ graceMs: 0 })));
    await Promise.all(pools.map((p) => p.end()));
    runners = [];
    pools = [];
  });

  function makeRunner(options: Partial<JobRunnerOptions> & Pick<JobRunnerOptions, 'handlers'>): JobRunner {
    const pool = createPool(db.url, { max: 4 });
    pools.push(pool);
    const runner = new JobRunner({ pool, workerId: `runner-${runners.length}`, pollMs: 200, abortWaitMs: 500, ...options });
    runners.push(runner);
    return runner;
  }

  const job = async (id: string) =>
    (
      await db.pool.query<{ status: string; attempts: number; last_error: string | null; locked_by: string | null; run_at_future: boolean }>(
        'SELECT status::text AS status, attempts, last_error, locked_by, run_at > now() AS run_at_future FROM jobs WHERE id = $1',
        [id],
      )
    ).rows[0]!;

  test('runs a job through the handler of its kind and marks it succeeded', async () => {
    const seen: { payload: unknown; attempt: number; workerId: string }[] = [];
    const runner = makeRunner({
      handlers: {
        echo: async (j, ctx) => {
          seen.push({ payload: j.payload, attempt: ctx.attempt, workerId: ctx.workerId });
        },
      },
    });
    await runner.start();
    const { id } = await enqueueJob(db.pool, { kind: 'echo', payload: { hello: 'world' } });
    assert.deepEqual(await settledOf(runner, id), { outcome: 'succeeded' });
    assert.deepEqual(seen, [{ payload: { hello: 'world' }, attempt: 1, workerId: runner.workerId }]);
    assert.equal((await job(id)).status, 'succeeded');
    assert.equal(runner.stats.succeeded, 1);
  });

  test('a handler that throws: retry scheduled with the error message, then failed for good on the last attempt', async () => {
    const runner = makeRunner({
      handlers: {
        flaky: async (_j, ctx) => {
          throw new Error(`broken on attempt ${ctx.attempt}`);
        },
      },
    });
    await runner.start();
    const { id } = await enqueueJob(db.pool, { kind: 'flaky', maxAttempts: 2 });
    const first = await settledOf(runner, id);
    assert.equal(first.outcome, 'retry');
    assert.equal(first.outcome === 'retry' && first.error, 'broken on attempt 1');
    let row = await job(id);
    assert.deepEqual(
      { status: row.status, attempts: row.attempts, last_error: row.last_error, run_at_future: row.run_at_future },
      { status: 'queued', attempts: 1, last_error: 'broken on attempt 1', run_at_future: true },
    );
    // Skip the 2 s backoff; the poll picks the job up.
    await db.pool.query('UPDATE jobs SET run_at = now() WHERE id = $1', [id]);
    assert.deepEqual(await settledOf(runner, id), { outcome: 'failed', error: 'broken on attempt 2' });
    row = await job(id);
    assert.equal(row.status, 'failed');
    assert.equal(row.attempts, 2);
    assert.equal(row.last_error, 'broken on attempt 2');
  });

  test('a kind without a handler fails with a message naming the kinds this worker handles', async () => {
    const runner = makeRunner({ handlers: { echo: async () => {} } });
    await runner.start();
    const { id } = await enqueueJob(db.pool, { kind: 'mystery', maxAttempts: 1 });
    const result = await settledOf(runner, id);
    assert.equal(result.outcome, 'failed');
    const row = await job(id);
    assert.equal(row.status, 'failed');
    assert.match(row.last_error ?? '', /no handler for job kind "mystery" in worker runner-\d+ \(it handles: echo\); register one in worker\/jobs\/index\.ts/);
  });

  test('heartbeats keep a job that runs for several lease lengths leased: no other runner takes it over', async () => {
    // 10 heartbeats per lease: a loaded machine may delay a few without the lease running out.
    const LEASE_MS = 1_000;
    let leaseValues = 0;
    const runner = makeRunner({
      leaseMs: LEASE_MS,
      heartbeatMs: 100,
      handlers: {
        long: async (j) => {
          // Run until the lease was renewed past 3 original lease lengths (read from the database).
          const seen = new Set<string>();
          await waitFor('the lease to be renewed well past its first expiry', async () => {
            const { rows } = await db.pool.query<{ lease: string; far: boolean }>(
              `SELECT lease_expires_at::text AS lease, lease_expires_at > created_at + make_interval(secs => $2 * 3.0 / 1000) AS far
               FROM jobs WHERE id = $1`,
              [j.id, LEASE_MS],
            );
            seen.add(rows[0]!.lease);
            return rows[0]!.far;
          });
          leaseValues = seen.size;
        },
      },
    });
    await runner.start();
    const { id } = await enqueueJob(db.pool, { kind: 'long' });
    await once(runner, 'claimed');
    // A competitor polling all the time: it would take the job over the moment the lease expired.
    const competitorRan: string[] = [];
    const competitor = makeRunner({
      leaseMs: LEASE_MS,
      heartbeatMs: 100,
      pollMs: 50,
      handlers: {
        long: async (j) => {
          competitorRan.push(j.id);
        },
      },
    });
    await competitor.start();
    assert.deepEqual(await settledOf(runner, id), { outcome: 'succeeded' });
    assert.deepEqual(competitorRan, [], 'the polling competitor never took the leased job over');
    assert.equal(competitor.stats.claimed, 0);
    assert.ok(competitor.stats.wakeups.poll >= 2, 'the competitor did poll meanwhile');
    assert.equal((await job(id)).attempts, 1, 'one attempt: the lease never expired');
    assert.equal((await job(id)).status, 'succeeded');
    assert.ok(leaseValues >= 3, `the lease was renewed repeatedly (${leaseValues} values seen)`);
    assert.equal(runner.stats.lost, 0);
  });

  test('a job whose lease is taken away gets its signal aborted and its result is dropped', async () => {
    let aborted: unknown = null;
    const runner = makeRunner({
      leaseMs: 2_000,
      heartbeatMs: 100,
      handlers: {
        block: async (_j, ctx) => {
          await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
          aborted = ctx.signal.reason;
        },
      },
    });
    await runner.start();
    const { id } = await enqueueJob(db.pool, { kind: 'block' });
    await once(runner, 'claimed');
    // Another worker owns it now (as after a takeover).
    await db.pool.query("UPDATE jobs SET locked_by = 'thief' WHERE id = $1", [id]);
    assert.deepEqual(await settledOf(runner, id), { outcome: 'lost' });
    await waitFor('the handler to see the abort', () => aborted);
    assert.match(String(aborted), /lease on job .* lost/);
    const row = await job(id);
    assert.equal(row.status, 'running');
    assert.equal(row.locked_by, 'thief', 'the runner did not touch a job that is not its own');
  });

  test('graceful stop lets a job that finishes within the grace period complete', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const runner = makeRunner({ handlers: { slow: async () => released } });
    await runner.start();
    const { id } = await enqueueJob(db.pool, { kind: 'slow' });
    await once(runner, 'claimed');
    const stopped = runner.stop({ graceMs: 20_000 });
    // Stopping: no new claims, even with work waiting.
    const waiting = await enqueueJob(db.pool, { kind: 'slow' });
    await sleep(300);
    release();
    await stopped;
    assert.equal((await job(id)).status, 'succeeded');
    assert.equal((await job(waiting.id)).status, 'queued', 'nothing claimed after stop()');
    assert.equal(runner.stats.claimed, 1);
  });

  test('graceful stop hands an unfinished job back at the deadline: aborted, queued, attempt not counted; the next runner takes it', async () => {
    let signalReason: unknown = null;
    const runner = makeRunner({
      handlers: {
        endless: async (_j, ctx) => {
          await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
          signalReason = ctx.signal.reason;
        },
      },
    });
    await runner.start();
    const { id } = await enqueueJob(db.pool, { kind: 'endless', maxAttempts: 1 });
    await once(runner, 'claimed');
    const outcome = settledOf(runner, id);
    await runner.stop({ graceMs: 200 });
    assert.deepEqual(await outcome, { outcome: 'handed-back' });
    assert.match(String(signalReason), /shutting down/);
    const row = await job(id);
    assert.deepEqual(
      { status: row.status, attempts: row.attempts, locked_by: row.locked_by, run_at_future: row.run_at_future },
      { status: 'queued', attempts: 0, locked_by: null, run_at_future: false },
    );
    assert.equal(runner.stats.handedBack, 1);

    // maxAttempts 1: had the interrupted attempt counted, the job could not run again.
    const next = makeRunner({ handlers: { endless: async () => {} } });
    const done = new Promise<JobOutcome>((resolve) => next.on('settled', (_j, r) => resolve(r)));
    await next.start();
    assert.deepEqual(await done, { outcome: 'succeeded' });
    assert.equal((await job(id)).attempts, 1);
  });

  test('an idle runner picks up a new job through NOTIFY, not the poll (poll every 60 s)', async () => {
    const runner = makeRunner({ pollMs: 60_000, handlers: { echo: async () => {} } });
    const idle = once(runner, 'idle');
    await runner.start();
    await idle; // the start-up claim round found nothing: from here only a wake-up can claim
    assert.equal(runner.listening, true);
    const claimed = once(runner, 'claimed') as Promise<[ClaimedJob, string]>;
    const { id } = await enqueueJob(db.pool, { kind: 'echo' });
    const [j, reason] = await claimed;
    assert.equal(j.id, id);
    assert.equal(reason, 'notify');
    assert.equal(runner.stats.wakeups.poll, 0, 'the poll never fired');
    assert.deepEqual(await settledOf(runner, id), { outcome: 'succeeded' });
  });

  test('notifications of kinds the runner does not claim do not wake it', async () => {
    const runner = makeRunner({ pollMs: 60_000, kinds: ['echo'], handlers: { echo: async () => {} } });
    const idle = once(runner, 'idle');
    await runner.start();
    await idle;
    await enqueueJob(db.pool, { kind: 'other' });
    const { id } = await enqueueJob(db.pool, { kind: 'echo' });
    assert.deepEqual(await settledOf(runner, id), { outcome: 'succeeded' });
    assert.equal(runner.stats.wakeups.notify, 1, 'woken once, by the echo job');
    assert.equal((await db.pool.query("SELECT status::text AS s FROM jobs WHERE kind = 'other'")).rows[0].s, 'queued');
  });

  test('the listener reconnects after its connection is killed; notifications work again', async () => {
    const runner = makeRunner({ pollMs: 60_000, handlers: { echo: async () => {} } });
    const idle = once(runner, 'idle');
    await runner.start();
    await idle;
    // The reconnect wakes a claim round (for what was enqueued while deaf); the job below must come after
    // that round, or the round may take it and the notification is not what woke the runner.
    const reconnectRoundDone = new Promise<void>((resolve) => {
      runner.on('wake', (reason: string) => {
        if (reason === 'reconnect') void once(runner, 'idle').then(() => resolve());
      });
    });
    const killed = await db.pool.query(
      "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'buildit-listen-' || $1",
      [JOBS_CHANNEL],
    );
    assert.equal(killed.rowCount, 1, 'one listener connection');
    await reconnectRoundDone;
    await waitFor('the listener to be up again', () => runner.listening);
    const claimed = once(runner, 'claimed') as Promise<[ClaimedJob, string]>;
    await enqueueJob(db.pool, { kind: 'echo' });
    const [, reason] = await claimed;
    assert.equal(reason, 'notify');
  });

  test('100 jobs, 4 runners (2 slots each): every job executed exactly once', async () => {
    const JOBS = 100;
    const executions = new Map<number, string[]>();
    const handler = async (j: ClaimedJob, ctx: JobContext) => {
      const n = (j.payload as { n: number }).n;
      executions.set(n, [...(executions.get(n) ?? []), ctx.workerId]);
      await sleep(Math.random() * 5);
    };
    const group = Array.from({ length: 4 }, () => makeRunner({ concurrency: 2, handlers: { work: handler } }));
    await Promise.all(group.map((r) => r.start()));
    await db.prisma.$transaction(async (tx) => {
      for (let n = 0; n < JOBS; n++) await enqueueJob(tx, { kind: 'work', payload: { n } });
    });
    await waitFor(
      'every job to succeed',
      async () => {
        const { rows } = await db.pool.query<{ n: string }>("SELECT count(*) AS n FROM jobs WHERE status = 'succeeded'");
        return Number(rows[0]!.n) === JOBS;
      },
      60_000,
    );
    assert.equal(executions.size, JOBS);
    for (const [n, by] of executions) assert.equal(by.length, 1, `job ${n} ran ${by.length} times (${by.join(', ')})`);
    const { rows } = await db.pool.query<{ attempts: number; n: string }>('SELECT attempts, count(*) AS n FROM jobs GROUP BY attempts');
    assert.deepEqual(
      rows.map((r) => [r.attempts, Number(r.n)]),
      [[1, JOBS]],
    );
    const perRunner = group.map((r) => r.stats.succeeded);
    assert.equal(
      perRunner.reduce((a, b) => a + b, 0),
      JOBS,
    );
    assert.ok(perRunner.filter((n) => n > 0).length >= 2, `work spread over runners: ${perRunner.join(', ')}`);
  });

  test('an event listener that throws does not disturb the bookkeeping', async () => {
    const runner = makeRunner({ handlers: { echo: async () => {} } });
    runner.on('settled', () => {
      throw new Error('listener bug');
    });
    await runner.start();
    const { id } = await enqueueJob(db.pool, { kind: 'echo' });
    await waitFor('the job to succeed', async () => (await job(id)).status === 'succeeded');
    assert.equal(runner.stats.succeeded, 1);
    assert.equal(runner.stats.recordErrors, 0);
    assert.equal(runner.stats.lost, 0);
  });

  test('bad options are refused with a message', () => {
    const pool = db.pool;
    assert.throws(() => new JobRunner({ pool, workerId: '', handlers: {} }), /workerId/);
    assert.throws(() => new JobRunner({ pool, workerId: 'w', handlers: {}, concurrency: 0 }), /concurrency/);
    assert.throws(() => new JobRunner({ pool, workerId: 'w', handlers: {}, leaseMs: 1000, heartbeatMs: 1000 }), /heartbeatMs/);
  });
});
