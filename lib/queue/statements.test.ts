// The queue's SQL statements against a real PostgreSQL: lease takeover, heartbeat, complete, fail with
// backoff, hand-back, and the NOTIFY on requeue. Times are read from the database (intervals computed by
// the same statement), never measured against the wall clock.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { sleep } from '../async';
import { repoRoot } from '../db/prisma-cli';
import { createTestDatabase, type TestDatabase } from '../../tests/support/db';
import { claimNextJob, type ExhaustedJob } from './claim';
import { completeJob } from './complete';
import { enqueueJob } from './enqueue';
import { failJob, retryDelaySeconds } from './fail';
import { renewLease } from './lease';
import { JOBS_CHANNEL } from './listen';
import { releaseJob } from './release';

interface JobRow {
  status: string;
  attempts: number;
  locked_by: string | null;
  last_error: string | null;
  lease_expiries: number;
  finished: boolean;
  leased: boolean;
  runnable_now: boolean;
  /** seconds between run_at and updated_at (both set by the same statement) */
  delay_s: number;
}

describe('job queue statements', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db?.drop();
  });
  beforeEach(async () => {
    await db.pool.query('DELETE FROM jobs');
  });

  const row = async (id: string): Promise<JobRow> => {
    const { rows } = await db.pool.query<JobRow>(
      `SELECT status::text AS status, attempts, locked_by, last_error, lease_expiries, finished_at IS NOT NULL AS finished,
              lease_expires_at IS NOT NULL AS leased, run_at <= now() AS runnable_now,
              extract(epoch FROM run_at - updated_at)::float8 AS delay_s
       FROM jobs WHERE id = $1`,
      [id],
    );
    assert.ok(rows[0], `job ${id} exists`);
    return rows[0];
  };
  /** Lets the lease run out without waiting for it: moves lease_expires_at into the past. */
  const expireLease = (id: string) => db.pool.query("UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1", [id]);
  /** Makes a scheduled retry due now. */
  const makeDue = (id: string) => db.pool.query('UPDATE jobs SET run_at = now() WHERE id = $1', [id]);

  test('a job whose lease expired is taken over by another worker; the old holder can no longer touch it', async () => {
    const { id } = await enqueueJob(db.pool, { kind: 'run' });
    const first = await claimNextJob(db.pool, { workerId: 'crashed', leaseMs: 60_000 });
    assert.equal(first?.id, id);
    assert.equal(first?.takenOver, false);
    // An active lease is not taken over.
    assert.equal(await claimNextJob(db.pool, { workerId: 'other', leaseMs: 60_000 }), null);

    // Waiting out a real (short) lease once, to show expiry needs nothing but time.
    await db.pool.query("UPDATE jobs SET lease_expires_at = now() + interval '200 milliseconds' WHERE id = $1", [id]);
    let second = null;
    for (let i = 0; i < 100 && !second; i++) {
      second = await claimNextJob(db.pool, { workerId: 'other', leaseMs: 60_000 });
      if (!second) await sleep(50);
    }
    assert.equal(second?.id, id, 'taken over once the lease ran out');
    assert.equal(second?.attempts, 2, 'the takeover counts as an attempt');
    assert.equal(second?.takenOver, true);
    assert.equal(second?.lockedBy, 'other');
    assert.equal(second?.lastError, 'lease expired 1 times (worker crashed?)');
    assert.equal(second?.leaseExpiries, 1);

    assert.equal(await renewLease(db.pool, id, 'crashed', 60_000), false, 'old holder: heartbeat says "not yours"');
    assert.equal(await completeJob(db.pool, id, 'crashed'), false, 'old holder cannot complete');
    assert.deepEqual(await failJob(db.pool, id, 'crashed', 'late'), { outcome: 'not-owner' });
    assert.equal(await releaseJob(db.pool, id, 'crashed'), false, 'old holder cannot hand back');
    const r = await row(id);
    assert.equal(r.status, 'running');
    assert.equal(r.locked_by, 'other');
    assert.equal(await completeJob(db.pool, id, 'other'), true);
  });

  test('a claimer never takes over a job it says it is still running (excludeIds), another claimer does', async () => {
    const { id } = await enqueueJob(db.pool, { kind: 'run' });
    assert.equal((await claimNextJob(db.pool, { workerId: 'slow', leaseMs: 60_000 }))?.id, id);
    // Its lease ran out while it kept working (e.g. the database was unreachable longer than the lease).
    await db.pool.query("UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1", [id]);
    assert.equal(await claimNextJob(db.pool, { workerId: 'slow', leaseMs: 60_000, excludeIds: [id] }), null);
    const other = await claimNextJob(db.pool, { workerId: 'other', leaseMs: 60_000, excludeIds: [] });
    assert.equal(other?.id, id);
    assert.equal(other?.takenOver, true);
    assert.equal(await completeJob(db.pool, id, 'other'), true);
  });

  test('a job taken over after its last attempt is failed with "lease expired N times"; the claim moves on to the next job', async () => {
    const doomed = await enqueueJob(db.pool, { kind: 'run', maxAttempts: 2, runAt: new Date(Date.now() - 60_000) });
    const a1 = await claimNextJob(db.pool, { workerId: 'w1', leaseMs: 60_000 });
    assert.equal(a1?.id, doomed.id);
    await expireLease(doomed.id);
    const a2 = await claimNextJob(db.pool, { workerId: 'w2', leaseMs: 60_000 });
    assert.equal(a2?.id, doomed.id);
    assert.equal(a2?.attempts, 2);
    await expireLease(doomed.id);

    const next = await enqueueJob(db.pool, { kind: 'run' });
    const exhausted: ExhaustedJob[] = [];
    const a3 = await claimNextJob(db.pool, { workerId: 'w3', leaseMs: 60_000, onExhausted: (j) => exhausted.push(j) });
    assert.equal(a3?.id, next.id, 'the same call returns the next runnable job');
    assert.deepEqual(exhausted, [{ id: doomed.id, kind: 'run', attempts: 2, leaseExpiries: 2, lastError: 'lease expired 2 times (worker crashed?)' }]);
    const r = await row(doomed.id);
    assert.equal(r.status, 'failed');
    assert.equal(r.attempts, 2);
    assert.equal(r.last_error, 'lease expired 2 times (worker crashed?)');
    assert.equal(r.lease_expiries, 2);
    assert.equal(r.locked_by, null);
    assert.equal(r.leased, false);
    assert.equal(r.finished, true);
  });

  test('the lease-expiry count restarts after an attempt fails with an error of its own', async () => {
    const { id } = await enqueueJob(db.pool, { kind: 'run', maxAttempts: 10 });
    await claimNextJob(db.pool, { workerId: 'w1', leaseMs: 60_000 });
    await expireLease(id);
    await claimNextJob(db.pool, { workerId: 'w2', leaseMs: 60_000 });
    await expireLease(id);
    assert.equal((await claimNextJob(db.pool, { workerId: 'w3', leaseMs: 60_000 }))?.lastError, 'lease expired 2 times (worker crashed?)');
    assert.equal((await failJob(db.pool, id, 'w3', 'boom')).outcome, 'retry');
    assert.equal((await row(id)).lease_expiries, 0);
    await makeDue(id);
    assert.equal((await claimNextJob(db.pool, { workerId: 'w4', leaseMs: 60_000 }))?.lastError, 'boom');
    await expireLease(id);
    assert.equal((await claimNextJob(db.pool, { workerId: 'w5', leaseMs: 60_000 }))?.lastError, 'lease expired 1 times (worker crashed?)');
  });

  test('the lease-expiry count is a column: counted by each takeover, kept by a hand-back, never read back from last_error', async () => {
    const { id } = await enqueueJob(db.pool, { kind: 'run', maxAttempts: 10 });
    const counts: number[] = [];
    assert.equal((await claimNextJob(db.pool, { workerId: 'w0', leaseMs: 60_000 }))?.leaseExpiries, 0);
    for (let takeover = 1; takeover <= 3; takeover++) {
      await expireLease(id);
      const job = await claimNextJob(db.pool, { workerId: `w${takeover}`, leaseMs: 60_000 });
      assert.equal(job?.takenOver, true);
      counts.push(job!.leaseExpiries);
    }
    assert.deepEqual(counts, [1, 2, 3]);
    assert.equal((await row(id)).lease_expiries, 3);

    // A hand-back is not an expiry and does not end the streak.
    assert.equal(await releaseJob(db.pool, id, 'w3'), true);
    assert.equal((await claimNextJob(db.pool, { workerId: 'w4', leaseMs: 60_000 }))?.leaseExpiries, 3);
    // The message is only written for people: whatever last_error says, the count comes from the column.
    await db.pool.query("UPDATE jobs SET last_error = 'lease expired 40 times (worker crashed?)' WHERE id = $1", [id]);
    await expireLease(id);
    const next = await claimNextJob(db.pool, { workerId: 'w5', leaseMs: 60_000 });
    assert.equal(next?.leaseExpiries, 4);
    assert.equal(next?.lastError, 'lease expired 4 times (worker crashed?)');
  });

  test('the job_lease_expiries migration takes the count of jobs migrated mid-streak from their last_error', async () => {
    const migration = readFileSync(path.join(repoRoot, 'prisma/migrations/20261205014445_job_lease_expiries/migration.sql'), 'utf8');
    const scratch = await createTestDatabase();
    try {
      // The table as it was before the migration, with a job of each kind of last_error.
      await scratch.pool.query('ALTER TABLE jobs DROP COLUMN lease_expiries');
      await scratch.pool.query(
        `INSERT INTO jobs (kind, last_error) VALUES
           ('a', 'lease expired 3 times (worker crashed?)'), ('b', 'boom'), ('c', NULL),
           ('d', 'step said: lease expired 7 times (worker crashed?)')`,
      );
      await scratch.pool.query(migration);
      const { rows } = await scratch.pool.query<{ kind: string; lease_expiries: number }>('SELECT kind, lease_expiries FROM jobs ORDER BY kind');
      assert.deepEqual(rows, [
        { kind: 'a', lease_expiries: 3 },
        { kind: 'b', lease_expiries: 0 },
        { kind: 'c', lease_expiries: 0 },
        { kind: 'd', lease_expiries: 0 },
      ]);
    } finally {
      await scratch.drop();
    }
  });

  test('renewLease extends the lease of the holder only', async () => {
    const { id } = await enqueueJob(db.pool, { kind: 'run' });
    await claimNextJob(db.pool, { workerId: 'holder', leaseMs: 1_000 });
    const lease = async () =>
      (await db.pool.query<{ left_s: number }>('SELECT extract(epoch FROM lease_expires_at - now())::float8 AS left_s FROM jobs WHERE id = $1', [id])).rows[0]!
        .left_s;
    assert.ok((await lease()) <= 1);
    assert.equal(await renewLease(db.pool, id, 'holder', 120_000), true);
    assert.ok((await lease()) > 100, 'lease extended to about 120 s from now');
    assert.equal(await renewLease(db.pool, id, 'someone-else', 120_000), false);
    // A lease that ran out but was not taken over yet is still the holder's.
    await expireLease(id);
    assert.equal(await renewLease(db.pool, id, 'holder', 60_000), true);
    assert.equal(await claimNextJob(db.pool, { workerId: 'other', leaseMs: 60_000 }), null, 'renewed in time: no takeover');
    await assert.rejects(renewLease(db.pool, id, 'holder', 0), /leaseMs/);
  });

  test('only the lease holder can complete a job; completing twice does nothing', async () => {
    const { id } = await enqueueJob(db.pool, { kind: 'run' });
    await claimNextJob(db.pool, { workerId: 'holder', leaseMs: 60_000 });
    assert.equal(await completeJob(db.pool, id, 'intruder'), false);
    assert.equal((await row(id)).status, 'running');
    assert.equal(await completeJob(db.pool, id, 'holder'), true);
    const r = await row(id);
    assert.equal(r.status, 'succeeded');
    assert.equal(r.finished, true);
    assert.equal(r.leased, false);
    assert.equal(r.locked_by, 'holder', 'kept as a record of who ran it');
    assert.equal(await completeJob(db.pool, id, 'holder'), false, 'already done');
    assert.deepEqual(await failJob(db.pool, id, 'holder', 'late'), { outcome: 'not-owner' });
    assert.equal(await renewLease(db.pool, id, 'holder', 60_000), false);
    assert.equal(await claimNextJob(db.pool, { workerId: 'x', leaseMs: 60_000 }), null);
  });

  test('failJob retries with backoff 2^attempts seconds (capped at 300), then fails for good keeping the last error', async () => {
    const { id } = await enqueueJob(db.pool, { kind: 'run', maxAttempts: 4 });
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const job = await claimNextJob(db.pool, { workerId: 'w', leaseMs: 60_000 });
      assert.equal(job?.id, id);
      assert.equal(job?.attempts, attempt);
      const result = await failJob(db.pool, id, 'w', `error ${attempt}`);
      assert.equal(result.outcome, 'retry');
      const r = await row(id);
      assert.equal(r.status, 'queued');
      assert.equal(r.locked_by, null);
      assert.equal(r.leased, false);
      assert.equal(r.last_error, `error ${attempt}`);
      assert.equal(r.runnable_now, false, 'not runnable before its backoff');
      assert.equal(await claimNextJob(db.pool, { workerId: 'w', leaseMs: 60_000 }), null);
      delays.push(r.delay_s);
      await makeDue(id);
    }
    assert.deepEqual(delays, [2, 4, 8]);
    assert.deepEqual([1, 2, 3, 8, 9, 20].map(retryDelaySeconds), [2, 4, 8, 256, 300, 300]);

    await claimNextJob(db.pool, { workerId: 'w', leaseMs: 60_000 });
    assert.deepEqual(await failJob(db.pool, id, 'w', 'error 4'), { outcome: 'failed', attempts: 4 });
    const r = await row(id);
    assert.equal(r.status, 'failed');
    assert.equal(r.attempts, 4);
    assert.equal(r.last_error, 'error 4');
    assert.equal(r.finished, true);
    assert.equal(r.locked_by, null);
    assert.equal(await claimNextJob(db.pool, { workerId: 'w', leaseMs: 60_000 }), null, 'a failed job is never claimed again');

    // The cap: a job on a high attempt count waits 5 minutes, not 2^n seconds.
    const capped = await enqueueJob(db.pool, { kind: 'run', maxAttempts: 50 });
    await db.pool.query('UPDATE jobs SET attempts = 19 WHERE id = $1', [capped.id]);
    await claimNextJob(db.pool, { workerId: 'w', leaseMs: 60_000 });
    assert.equal((await failJob(db.pool, capped.id, 'w', 'again')).outcome, 'retry');
    assert.equal((await row(capped.id)).delay_s, 300);
  });

  test('a job made due with run_at = now() is claimable by the very next statement (times are not rounded up)', async () => {
    // With millisecond columns, now() was rounded up to half a millisecond into the future and about one
    // claim in ten right after an enqueue or a makeDue found nothing. Many rounds make that visible.
    const { id } = await enqueueJob(db.pool, { kind: 'run', maxAttempts: 1000 });
    for (let round = 0; round < 300; round++) {
      const job = await claimNextJob(db.pool, { workerId: 'w', leaseMs: 60_000 });
      assert.equal(job?.id, id, `round ${round}: the due job was not claimed`);
      await failJob(db.pool, id, 'w', 'again');
      await makeDue(id);
    }
  });

  test('releaseJob hands a job back: queued, runnable now, unlocked, attempt not counted; holder only', async () => {
    const { id } = await enqueueJob(db.pool, { kind: 'run' });
    await claimNextJob(db.pool, { workerId: 'stopping', leaseMs: 60_000 });
    assert.equal(await releaseJob(db.pool, id, 'intruder'), false);
    assert.equal(await releaseJob(db.pool, id, 'stopping'), true);
    const r = await row(id);
    assert.deepEqual(
      { status: r.status, attempts: r.attempts, locked_by: r.locked_by, leased: r.leased, runnable_now: r.runnable_now },
      { status: 'queued', attempts: 0, locked_by: null, leased: false, runnable_now: true },
    );
    const again = await claimNextJob(db.pool, { workerId: 'next', leaseMs: 60_000 });
    assert.equal(again?.id, id);
    assert.equal(again?.attempts, 1);
  });

  test('a requeue (retry or hand-back) notifies buildit_jobs with the kind, like an insert; completion does not', async () => {
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const notes: string[] = [];
    listener.on('notification', (n) => {
      if (n.channel === JOBS_CHANNEL) notes.push(n.payload ?? '');
    });
    const waitForNotes = async (count: number) => {
      for (let i = 0; i < 200 && notes.length < count; i++) await sleep(25);
      assert.equal(notes.length, count, `expected ${count} notifications, got ${JSON.stringify(notes)}`);
    };
    try {
      await listener.query(`LISTEN ${JOBS_CHANNEL}`);
      const { id } = await enqueueJob(db.pool, { kind: 'deploy' });
      await waitForNotes(1);
      await claimNextJob(db.pool, { workerId: 'w', leaseMs: 60_000 });
      await failJob(db.pool, id, 'w', 'transient');
      await waitForNotes(2);
      await makeDue(id);
      await claimNextJob(db.pool, { workerId: 'w', leaseMs: 60_000 });
      await releaseJob(db.pool, id, 'w');
      await waitForNotes(3);
      await claimNextJob(db.pool, { workerId: 'w', leaseMs: 60_000 });
      await completeJob(db.pool, id, 'w');
      // A marker insert: once its notification arrives, any notification of the completion would have too.
      await enqueueJob(db.pool, { kind: 'marker' });
      await waitForNotes(4);
      assert.deepEqual(notes, ['deploy', 'deploy', 'deploy', 'marker']);
    } finally {
      await listener.end();
    }
  });
});
