/**
 * ServerLocks (lib/runs/stage-locks.ts) on a real PostgreSQL: one holder per tenant and name, waiters in
 * the order they asked, holders and waiters that count only while their run's job has a live lease,
 * and a resumed stage that keeps its lock or learns who took it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerLocks } from '../../lib/runs/stage-locks';
import type { HeldLock, LockHolder } from '../../lib/engine/orchestrator';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { seedTenant, triggerPipeline, type Seeded } from './helpers';

let db: TestDatabase;
let seeded: Seeded;

before(async () => {
  db = await createTestDatabase();
  seeded = await seedTenant(db.prisma);
});
after(() => db?.drop());

const KDL = `pipeline "l" { on "manual"; }
stage "deploy" { image "alpine"; lock "production"; run "true"; }
`;

interface Contender {
  runId: string;
  number: number;
  locks: ServerLocks;
  waits: Array<LockHolder | null>;
}

/** A run whose job a (pretend) worker holds with a live lease. */
async function contender(): Promise<Contender> {
  const { runId, stageRunIds } = await triggerPipeline(db.prisma, seeded, KDL);
  await setLease(runId, '1 minute');
  const { number } = await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId } });
  return { runId, number, locks: new ServerLocks({ prisma: db.prisma, tenantId: seeded.tenantId, stageRunIds, pollMs: 20 }), waits: [] };
}

async function setLease(runId: string, from: string): Promise<void> {
  await db.prisma.$executeRawUnsafe(
    `UPDATE jobs SET status = 'running', locked_by = 'test', lease_expires_at = now() + $2::interval WHERE dedupe_key = $1`,
    `run:${runId}`,
    from,
  );
}

function ask(c: Contender, signal = new AbortController().signal): Promise<HeldLock> {
  return c.locks.acquire({ stageId: 'deploy', lock: 'production' }, signal, async (holder) => {
    c.waits.push(holder);
  });
}

async function settled(promise: Promise<unknown>): Promise<boolean> {
  return Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 200))]);
}

const holderOf = (c: Contender): LockHolder => ({ runId: c.runId, stage: 'deploy', runNumber: c.number });

test('one holder at a time; waiters get the lock in the order they asked, seeing the holder', async () => {
  const [a, b, c] = [await contender(), await contender(), await contender()];
  const heldA = await ask(a);
  const askedB = ask(b);
  while (b.waits.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  const askedC = ask(c);
  while (c.waits.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(b.waits, [holderOf(a)]);
  assert.deepEqual(c.waits, [holderOf(a)]);
  const waiting = await db.prisma.stageRun.findFirstOrThrow({ where: { runId: b.runId } });
  assert.deepEqual(waiting.waitingFor, { lock: 'production', ...holderOf(a) });

  await heldA.release();
  const heldB = await askedB;
  assert.equal(await settled(askedC), false, 'C asked after B: it still waits');
  await heldB.release();
  await (await askedC).release();
  assert.deepEqual(c.waits.at(-1), holderOf(b), 'C was told when the holder changed');
});

test("a dead worker's lock is free once its lease expires; its stage, resumed, learns who took it", async () => {
  const [a, b] = [await contender(), await contender()];
  await ask(a);
  const askedB = ask(b);
  assert.equal(await settled(askedB), false);
  await setLease(a.runId, '-1 second'); // a's worker died: its lease ran out
  const heldB = await askedB;
  const resumed = await a.locks.resume({ stageId: 'deploy', lock: 'production' });
  assert.deepEqual(resumed, {
    lost: `lost lock "production": the worker running this stage stopped, its lease expired and stage "deploy" of run #${b.number} took it`,
  });
  await heldB.release();
});

test('a resumed stage keeps its lock when nobody took it; a stopped waiter leaves the queue', async () => {
  const [a, b, c] = [await contender(), await contender(), await contender()];
  await ask(a);
  const resumed = await a.locks.resume({ stageId: 'deploy', lock: 'production' });
  assert.ok(!('lost' in resumed));
  const stop = new AbortController();
  const askedB = ask(b, stop.signal);
  while (b.waits.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  const askedC = ask(c);
  stop.abort();
  await assert.rejects(askedB, { message: 'stopped while waiting for lock "production"' });
  await resumed.release();
  await (await askedC).release(); // B's place is gone: C is next
});
