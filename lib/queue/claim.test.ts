// claimNextJob / enqueueJob against a real PostgreSQL (a fresh clone of the migrated template).
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createPrismaClient, type PrismaClient } from '../db/client';
import { createTestDatabase, type TestDatabase } from '../../tests/support/db';
import { claimNextJob, type ClaimedJob } from './claim';
import { enqueueJob } from './enqueue';

describe('job queue: enqueue and claim', () => {
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

  test('two concurrent claimers get distinct jobs: many claimers on separate connections, every job claimed once', async (t) => {
    const JOBS = 300;
    const PG_CLAIMERS = 6;
    const PRISMA_CLAIMERS = 4;
    await db.pool.query("INSERT INTO jobs (kind, payload) SELECT 'run', jsonb_build_object('n', n) FROM generate_series(1, $1) AS n", [JOBS]);

    const pgClients = await Promise.all(
      Array.from({ length: PG_CLAIMERS }, async () => {
        const c = new pg.Client({ connectionString: db.url });
        await c.connect();
        return c;
      }),
    );
    const prismas: PrismaClient[] = Array.from({ length: PRISMA_CLAIMERS }, () => createPrismaClient(db.url, { max: 1 }));
    try {
      // Start every claimer at the same moment so they really race for the same rows.
      let go!: () => void;
      const start = new Promise<void>((resolve) => {
        go = resolve;
      });
      const claimer = async (conn: pg.Client | PrismaClient, workerId: string) => {
        await start;
        const mine: ClaimedJob[] = [];
        for (;;) {
          const job = await claimNextJob(conn, { workerId, leaseMs: 60_000 });
          if (!job) return mine;
          mine.push(job);
        }
      };
      const runs = [...pgClients.map((c, i) => claimer(c, `pg-${i}`)), ...prismas.map((p, i) => claimer(p, `prisma-${i}`))];
      const started = performance.now();
      go();
      const results = await Promise.all(runs);
      const elapsed = performance.now() - started;

      const all = results.flat();
      const ids = all.map((j) => j.id);
      assert.equal(new Set(ids).size, ids.length, 'a job was claimed twice');
      assert.equal(ids.length, JOBS, 'every job is claimed');
      const busyClaimers = results.filter((r) => r.length > 0).length;
      t.diagnostic(`${JOBS} claims by ${runs.length} claimers in ${elapsed.toFixed(0)} ms; ${busyClaimers} claimers got jobs`);
      assert.ok(busyClaimers >= 2, 'the claims were spread over several claimers');

      const { rows } = await db.pool.query<{ status: string; attempts: number; n: string }>('SELECT status, attempts, count(*) AS n FROM jobs GROUP BY 1, 2');
      assert.deepEqual(
        rows.map((r) => ({ ...r, n: Number(r.n) })),
        [{ status: 'running', attempts: 1, n: JOBS }],
      );
      // locked_by is the claimer that got it.
      const owner = new Map(results.flatMap((r) => r.map((j) => [j.id, j.lockedBy] as const)));
      const locked = await db.pool.query<{ id: string; locked_by: string }>('SELECT id::text AS id, locked_by FROM jobs');
      for (const row of locked.rows) assert.equal(row.locked_by, owner.get(row.id));
    } finally {
      await Promise.all(pgClients.map((c) => c.end()));
      await Promise.all(prismas.map((p) => p.$disconnect()));
    }
  });

  test('two claimers in open transactions: the second skips the row the first holds, without waiting', async () => {
    await db.pool.query("INSERT INTO jobs (kind) VALUES ('run'), ('run')");
    const [c1, c2] = [new pg.Client({ connectionString: db.url }), new pg.Client({ connectionString: db.url })];
    await Promise.all([c1.connect(), c2.connect()]);
    try {
      await c1.query('BEGIN');
      await c2.query("BEGIN; SET LOCAL lock_timeout = '2s'");
      const j1 = await claimNextJob(c1, { workerId: 'one', leaseMs: 60_000 });
      const j2 = await claimNextJob(c2, { workerId: 'two', leaseMs: 60_000 }); // would block (then fail) without SKIP LOCKED
      assert.ok(j1 && j2);
      assert.notEqual(j1.id, j2.id);
      assert.equal(await claimNextJob(c2, { workerId: 'two', leaseMs: 60_000 }), null, 'the only other row is locked by c1');
      await c1.query('ROLLBACK'); // the first claimer dies before committing: its job is claimable again
      await c2.query('COMMIT');
      const again = await claimNextJob(db.pool, { workerId: 'three', leaseMs: 60_000 });
      assert.equal(again?.id, j1.id);
      assert.equal(again?.attempts, 1, 'the rolled-back claim did not count');
    } finally {
      await Promise.all([c1.end(), c2.end()]);
    }
  });

  test('claims the oldest runnable job, sets a lease, counts the attempt; returns null when none is runnable', async () => {
    assert.equal(await claimNextJob(db.pool, { workerId: 'w', leaseMs: 1000 }), null);
    const later = await enqueueJob(db.pool, { kind: 'run', payload: { n: 2 }, runAt: new Date(Date.now() - 1_000) });
    const first = await enqueueJob(db.pool, { kind: 'run', payload: { n: 1 }, runAt: new Date(Date.now() - 60_000) });
    await enqueueJob(db.pool, { kind: 'run', payload: { n: 3 }, runAt: new Date(Date.now() + 3_600_000) });

    const before = Date.now();
    const a = await claimNextJob(db.pool, { workerId: 'host:1:0', leaseMs: 30_000 });
    assert.equal(a?.id, first.id);
    assert.deepEqual(a?.payload, { n: 1 });
    assert.equal(a?.attempts, 1);
    assert.equal(a?.maxAttempts, 5);
    assert.equal(a?.lockedBy, 'host:1:0');
    const leaseLeft = a!.leaseExpiresAt.getTime() - before;
    assert.ok(leaseLeft > 25_000 && leaseLeft < 40_000, `lease ${leaseLeft} ms`);

    const b = await claimNextJob(db.prisma, { workerId: 'host:1:1', leaseMs: 30_000 });
    assert.equal(b?.id, later.id);
    // The remaining job is in the future.
    assert.equal(await claimNextJob(db.pool, { workerId: 'w', leaseMs: 1000 }), null);
  });

  test('kinds limits what is claimed', async () => {
    const deploy = await enqueueJob(db.pool, { kind: 'deploy' });
    const run = await enqueueJob(db.pool, { kind: 'run' });
    assert.equal(await claimNextJob(db.prisma, { workerId: 'w', leaseMs: 1000, kinds: ['terraform'] }), null);
    assert.equal((await claimNextJob(db.prisma, { workerId: 'w', leaseMs: 1000, kinds: ['run', 'terraform'] }))?.id, run.id);
    assert.equal((await claimNextJob(db.pool, { workerId: 'w', leaseMs: 1000, kinds: [] }))?.id, deploy.id, 'empty = any kind');
  });

  test('enqueue inside a transaction: the job exists only if the transaction commits', async () => {
    await assert.rejects(
      db.prisma.$transaction(async (tx) => {
        await enqueueJob(tx, { kind: 'run', payload: { rolled: 'back' } });
        throw new Error('abort');
      }),
      /abort/,
    );
    assert.equal(await db.prisma.job.count(), 0);
    const { id } = await db.prisma.$transaction((tx) => enqueueJob(tx, { kind: 'run', maxAttempts: 2, dedupeKey: 'run:42' }));
    const job = await db.prisma.job.findUniqueOrThrow({ where: { id } });
    assert.equal(job.status, 'queued');
    assert.equal(job.maxAttempts, 2);
    const again = await db.prisma.$transaction((tx) => enqueueJob(tx, { kind: 'run', dedupeKey: 'run:42' }));
    assert.deepEqual(again, { id, created: false });
  });

  test('concurrent enqueues with the same dedupe key create one job', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => enqueueJob(db.pool, { kind: 'run', dedupeKey: 'same' })));
    assert.equal(new Set(results.map((r) => r.id)).size, 1);
    assert.equal(results.filter((r) => r.created).length, 1);
  });

  test('bad input is refused with a message', async () => {
    await assert.rejects(claimNextJob(db.pool, { workerId: '', leaseMs: 1000 }), /workerId/);
    await assert.rejects(claimNextJob(db.pool, { workerId: 'w', leaseMs: 0 }), /leaseMs/);
    await assert.rejects(enqueueJob(db.pool, { kind: '' }), /kind/);
    await assert.rejects(enqueueJob(db.pool, { kind: 'run', maxAttempts: 0 }), /maxAttempts/);
  });
});
