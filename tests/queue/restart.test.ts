// PostgreSQL restarted under a running JobRunner (a server of this test's own, stopped with `-m immediate`
// so every connection drops as in a crash, and kept down for 1.5 s): the runner logs and retries instead of crashing, keeps the
// lease of the job it was running, records that job's outcome, reconnects its listener, and runs a job
// enqueued after the restart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { createPool } from '../../lib/db/client';
import { enqueueJob } from '../../lib/queue/enqueue';
import { JobRunner } from '../../lib/queue/runner';
import { ensureTemplate, TEMPLATE_DATABASE, withDatabase } from '../support/db';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/postgres';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Runs `fn`, retrying while the database is (still) unreachable from `pool`. */
async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= 50) throw e;
      await sleep(100);
    }
  }
}

describe('PostgreSQL restart under a running JobRunner', () => {
  let server: ThrowawayPostgres;
  let url: string;
  before(async () => {
    server = await startThrowawayPostgres();
    await ensureTemplate(server.adminUrl);
    const admin = createPool(server.adminUrl, { max: 1 });
    await admin.query(`CREATE DATABASE restart_test TEMPLATE ${TEMPLATE_DATABASE}`);
    // The test server runs with synchronous_commit=off, whose last commits a crash may lose; this test
    // crashes it on purpose, and a committed job must survive that, as on a production server.
    await admin.query('ALTER DATABASE restart_test SET synchronous_commit = on');
    await admin.end();
    url = withDatabase(server.adminUrl, 'restart_test');
  });
  after(async () => {
    await server?.stop();
  });

  test('the runner survives the restart: the running job completes, a job enqueued afterwards runs', async (t) => {
    const pool: pg.Pool = createPool(url, { max: 4 });
    const testPool: pg.Pool = createPool(url, { max: 2 });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ran: string[] = [];
    const runner = new JobRunner({
      pool,
      workerId: 'survivor',
      concurrency: 2,
      leaseMs: 8_000,
      heartbeatMs: 250,
      pollMs: 200,
      handlers: {
        hold: async (j) => {
          ran.push(j.id);
          await released;
        },
        echo: async (j) => {
          ran.push(j.id);
        },
      },
    });
    try {
      await runner.start();
      const hold = await enqueueJob(testPool, { kind: 'hold' });
      await waitFor('the hold job to start', () => ran.includes(hold.id));

      await server.restart({ downMs: 1_500, mode: 'immediate' });
      t.diagnostic(`after restart: ${runner.stats.claimErrors} claim errors, ${runner.stats.heartbeatErrors} heartbeat errors`);
      assert.ok(runner.stats.claimErrors + runner.stats.heartbeatErrors > 0, 'the runner noticed the outage');

      release(); // the handler finishes after the restart: its outcome must still be recorded
      const echo = await retrying(() => enqueueJob(testPool, { kind: 'echo' }));
      const status = async (id: string) =>
        (await retrying(() => testPool.query<{ status: string; attempts: number }>('SELECT status::text AS status, attempts FROM jobs WHERE id = $1', [id])))
          .rows[0]!;
      await waitFor('the job enqueued after the restart to succeed', async () => (await status(echo.id)).status === 'succeeded');
      await waitFor('the job that ran across the restart to succeed', async () => (await status(hold.id)).status === 'succeeded');
      assert.equal((await status(hold.id)).attempts, 1, 'its lease outlived the outage: never taken over, never re-run');
      assert.deepEqual(
        ran.filter((id) => id === hold.id),
        [hold.id],
      );
      await waitFor('the listener to reconnect', () => runner.listening);
      assert.equal(runner.stats.succeeded, 2);
      assert.equal(runner.stats.lost, 0);
    } finally {
      release();
      await runner.stop({ graceMs: 1_000 });
      await pool.end();
      await testPool.end();
    }
  });
});
