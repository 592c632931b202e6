// Cancel requests reach the worker by LISTEN/NOTIFY (lib/runs/cancel-requests.ts), with the database as
// the fallback: real PostgreSQL, the real cancel transition the API uses.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelRequests } from '../../lib/runs/cancel-requests';
import { requestRunCancel } from '../../lib/runs/transitions';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { seedTenant, triggerPipeline, type Seeded } from './helpers';

let db: TestDatabase;
let seeded: Seeded;
const HOUR = 3_600_000;

before(async () => {
  db = await createTestDatabase();
  seeded = await seedTenant(db.prisma);
});

after(async () => {
  await db?.drop();
});

/** A run the worker has claimed (running), as the cancel transition expects for a request. */
async function runningRun(): Promise<string> {
  const { runId } = await triggerPipeline(db.prisma, seeded, 'pipeline "p"\nstage "a" { image "alpine"; run "true"; }\n');
  await db.prisma.pipelineRun.update({ where: { id: runId }, data: { status: 'running' } });
  return runId;
}

const opened: CancelRequests[] = [];
after(() => Promise.all(opened.map((requests) => requests.close())));

/** Listens for cancels (never polls: the fallback interval is an hour); closed after the tests. */
function listening(): CancelRequests {
  const requests = new CancelRequests({ prisma: db.prisma, listen: db.pool.options, fallbackPollMs: HOUR });
  opened.push(requests);
  return requests;
}

const cancel = (runId: string) => db.prisma.$transaction((tx) => requestRunCancel(tx, runId, new Date()));

/** Resolves when `fired` is called; fails the test after a generous deadline. */
function firedWithin(ms: number): { fired: () => void; done: Promise<void> } {
  let fired = () => {};
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no cancel within ${ms} ms`)), ms);
    fired = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  return { fired, done };
}

test('a cancel reaches the watcher through NOTIFY, with no polling at all (the fallback interval is an hour)', async () => {
  const requests = listening();
  const runId = await runningRun();
  const { fired, done } = firedWithin(20_000);
  const watch = requests.watch(runId, fired);
  await watch.checked;
  assert.deepEqual(await cancel(runId), { kind: 'requested' });
  await done;
  watch.stop();
});

test('a cancel requested before the watch began is seen by its first check', async () => {
  const requests = listening();
  const runId = await runningRun();
  await cancel(runId);
  let fired = 0;
  const watch = requests.watch(runId, () => fired++);
  await watch.checked;
  assert.equal(fired, 1);
  watch.stop();
});

test('a cancel sent while the LISTEN connection was down is found when it reconnects', async () => {
  const requests = listening();
  const runId = await runningRun();
  const { fired, done } = firedWithin(30_000);
  const watch = requests.watch(runId, fired);
  await watch.checked;
  // Kill the listener's session and request the cancel at once: its NOTIFY finds nobody listening.
  await db.pool.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'buildit-listen-buildit_run_cancel' AND datname = current_database()`,
  );
  await cancel(runId);
  await done;
  watch.stop();
});

test('without a LISTEN session the watched runs are polled; a stopped watch is not called', async () => {
  const requests = new CancelRequests({ prisma: db.prisma, fallbackPollMs: 50 });
  const [first, second] = [await runningRun(), await runningRun()];
  const { fired, done } = firedWithin(20_000);
  const watch = requests.watch(first, fired);
  let stoppedCalls = 0;
  const stopped = requests.watch(second, () => stoppedCalls++);
  await Promise.all([watch.checked, stopped.checked]);
  stopped.stop();
  await cancel(second);
  await cancel(first);
  await done;
  watch.stop();
  assert.equal(stoppedCalls, 0);
});
