/**
 * Stage locks survive a dead worker: two real worker processes (one job slot each, 3 s leases) share a
 * database. Run A's stage holds lock "production" when its worker is killed with SIGKILL; run B's stage,
 * on the other worker, waits for it (the API names A as the holder). When A's lease expires, the lock
 * is released and B's stage runs, although A's run is not finished (the other worker's only slot is B's,
 * so nobody has taken A over yet); A is resumed afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getRun } from '../../lib/api/services/runs';
import { removeContainersByLabel } from '../../lib/engine/executors';
import { createTestDatabase } from '../support/db';
import { dockerOrSkip, TEST_IMAGE } from '../support/engines';
import { seedTenant, triggerPipeline } from '../runs/helpers';
import { Cleanup, startWorker, stopWorker, waitFor, type WorkerProcess } from '../server/resilience-support';

const pipeline = (name: string, script: string) => `pipeline "${name}" { on "manual"; }
stage "deploy" {
    image "${TEST_IMAGE}"
    lock "production"
    run "${script}"
}
`;

test('a worker killed while its stage holds a lock: the lock is released when the lease expires and the next waiter runs', async (t) => {
  const docker = await dockerOrSkip(t);
  if (!docker) return;
  const cleanup = new Cleanup(t);
  const db = await createTestDatabase();
  cleanup.defer(() => db.drop());
  const dataDir = mkdtempSync(path.join(tmpdir(), 'buildit-lock-crash-'));
  cleanup.defer(() => rmSync(dataDir, { recursive: true, force: true }));
  const env = { DATABASE_URL: db.url, BUILDIT_DATA_DIR: dataDir, BUILDIT_WORKER_LEASE_MS: '3000', BUILDIT_WORKER_CONCURRENCY: '1' };
  const workers = new Map<string, WorkerProcess>([
    ['w1', startWorker(cleanup, 'w1', env)],
    ['w2', startWorker(cleanup, 'w2', env)],
  ]);
  const context = () => [...workers.values()].map((w) => `--- ${w.id}:\n${w.output.slice(-30).join('\n')}`).join('\n');
  await waitFor('both workers to be ready', () => [...workers.values()].every((w) => w.output.some((line) => line.includes('worker ready'))), { context });

  const seeded = await seedTenant(db.prisma);
  const a = await triggerPipeline(db.prisma, seeded, pipeline('holder', 'echo holding; sleep 15'));
  cleanup.defer(() => removeContainersByLabel(docker, { 'buildit.run': a.runId }));
  const deployOf = (runId: string) => db.prisma.stageRun.findFirstOrThrow({ where: { runId, stageId: 'deploy' } });
  await waitFor('run A to hold the lock and run', async () => (await deployOf(a.runId)).status === 'running', { context });

  const b = await triggerPipeline(db.prisma, seeded, pipeline('waiter', 'echo after'));
  cleanup.defer(() => removeContainersByLabel(docker, { 'buildit.run': b.runId }));
  const runA = await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: a.runId } });
  const shown = await waitFor(
    'the API to show B waiting for the lock',
    async () => (await getRun(db.prisma, seeded.actor, b.runId)).stages.find((stage) => stage.waitingFor?.runId)?.waitingFor,
    { context },
  );
  assert.deepEqual(shown, { lock: 'production', runId: a.runId, runNumber: runA.number, stage: 'deploy' });

  const [job] = await db.prisma.$queryRawUnsafe<Array<{ locked_by: string }>>(`SELECT locked_by FROM jobs WHERE dedupe_key = $1`, `run:${a.runId}`);
  const victim = workers.get(job!.locked_by)!;
  const survivor = workers.get(victim.id === 'w1' ? 'w2' : 'w1')!;
  const killedAt = new Date();
  victim.process.kill('SIGKILL');
  assert.equal((await victim.exit).signal, 'SIGKILL');

  const bDone = await waitFor(
    "B's stage to run and finish",
    async () => {
      const stage = await deployOf(b.runId);
      return stage.finishedAt !== null ? stage : null;
    },
    { timeoutMs: 60_000, context },
  );
  assert.equal(bDone.status, 'succeeded');
  assert.ok(bDone.startedAt! > killedAt, 'B started only after the holder died');
  const aWhenBStarted = await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: a.runId } });
  assert.ok(aWhenBStarted.finishedAt === null || aWhenBStarted.finishedAt > bDone.startedAt!, 'B did not wait for A to finish: the lease released the lock');

  // The survivor takes A over once its slot is free, and finishes it.
  const aDone = await waitFor(
    'run A to be resumed and finish',
    async () => {
      const run = await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: a.runId } });
      return run.finishedAt !== null ? run : null;
    },
    { timeoutMs: 120_000, context },
  );
  assert.equal(aDone.status, 'succeeded', context());
  const [resumed] = await db.prisma.$queryRawUnsafe<Array<{ locked_by: string }>>(`SELECT locked_by FROM jobs WHERE dedupe_key = $1`, `run:${a.runId}`);
  assert.equal(resumed!.locked_by, survivor.id);
  await stopWorker(survivor);
});
