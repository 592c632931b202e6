/**
 * Server mode, resilience: two real worker processes share a database; the one running a Docker stage is
 * killed with SIGKILL (no cleanup, buffered log lines lost with it). Its lease expires (3 s here, through
 * BUILDIT_WORKER_LEASE_MS), the other worker takes the job over, re-attaches to the SAME container by its
 * labels and finishes the run: the stage ran once (one container created, attempt 1, `started` printed
 * once), its log has every line exactly once, and no container is left.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findContainersByLabel, removeContainersByLabel } from '../../lib/engine/executors';
import { createTestDatabase } from '../support/db';
import { dockerOrSkip, TEST_IMAGE } from '../support/engines';
import { seedTenant, storedLog, triggerPipeline } from '../runs/helpers';
import { Cleanup, containersCreated, numberedLines, printNumberedLines, startWorker, stopWorker, waitFor, type WorkerProcess } from './resilience-support';

const LINES = 40; // 0.25 s apart: ~10 s

test('two workers, SIGKILL of the one running a Docker stage: the other finishes the run, the stage ran once, every line once', async (t) => {
  const docker = await dockerOrSkip(t);
  if (!docker) return;
  const cleanup = new Cleanup(t);
  const db = await createTestDatabase();
  cleanup.defer(() => db.drop());
  // One data directory for both workers, as on one host: a resumed run's container has the run's
  // workspace (under it) mounted.
  const dataDir = mkdtempSync(path.join(tmpdir(), 'buildit-worker-kill-'));
  cleanup.defer(() => rmSync(dataDir, { recursive: true, force: true }));

  const env = { DATABASE_URL: db.url, BUILDIT_DATA_DIR: dataDir, BUILDIT_WORKER_LEASE_MS: '3000', BUILDIT_WORKER_CONCURRENCY: '1' };
  const workers = new Map<string, WorkerProcess>([
    ['w1', startWorker(cleanup, 'w1', env)],
    ['w2', startWorker(cleanup, 'w2', env)],
  ]);
  const context = () => [...workers.values()].map((w) => `--- ${w.id}:\n${w.output.slice(-40).join('\n')}`).join('\n');
  await waitFor('both workers to be ready', () => [...workers.values()].every((w) => w.output.some((line) => line.includes('worker ready'))), { context });

  const seeded = await seedTenant(db.prisma);
  const since = Date.now();
  const { runId, stageRunIds } = await triggerPipeline(
    db.prisma,
    seeded,
    `pipeline "worker-kill" { on "manual"; }
stage "slow" {
    image "${TEST_IMAGE}"
    run "echo started; ${printNumberedLines(LINES, 0.25)}"
}
stage "after" needs="slow" {
    image "${TEST_IMAGE}"
    run "echo after"
}
`,
  );
  cleanup.defer(() => removeContainersByLabel(docker, { 'buildit.run': runId }));
  const slowStage = stageRunIds.get('slow')!;
  const job = async () =>
    (
      await db.prisma.$queryRawUnsafe<Array<{ status: string; attempts: number; locked_by: string | null }>>(
        `SELECT status::text AS status, attempts, locked_by FROM jobs WHERE payload->>'runId' = $1`,
        runId,
      )
    )[0]!;

  // Mid-stage: the container runs and some of its lines are stored.
  await waitFor('the stage to be running with lines stored', async () => (await storedLog(db.prisma, slowStage)).lines.length >= 6, { context });
  const holder = (await job()).locked_by;
  assert.ok(holder === 'w1' || holder === 'w2', `the job is held by one of the workers (locked_by ${holder})`);
  const victim = workers.get(holder)!;
  const survivor = workers.get(holder === 'w1' ? 'w2' : 'w1')!;
  victim.process.kill('SIGKILL');
  assert.equal((await victim.exit).signal, 'SIGKILL');
  const storedAtKill = (await storedLog(db.prisma, slowStage)).lines.length;
  t.diagnostic(`killed ${victim.id} with ${storedAtKill} lines stored; ${survivor.id} should take over`);

  const finished = await waitFor(
    'the run to finish on the other worker',
    async () => {
      const run = await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId } });
      return ['succeeded', 'failed', 'cancelled'].includes(run.status) ? run : null;
    },
    { timeoutMs: 180_000, context },
  );
  assert.equal(finished.status, 'succeeded', context());

  // The run row is final before the handler returns; the job is completed just after it.
  const completed = await waitFor(
    'the job to be completed',
    async () => {
      const row = await job();
      return row.status === 'running' ? null : row;
    },
    { context },
  );
  assert.deepEqual(completed, { status: 'succeeded', attempts: 2, locked_by: survivor.id }, 'taken over once, completed by the survivor');
  const stages = await db.prisma.stageRun.findMany({ where: { runId }, orderBy: { stageId: 'asc' } });
  assert.deepEqual(
    stages.map((s) => [s.stageId, s.status, s.attempt, s.exitCode]),
    [
      ['after', 'succeeded', 1, 0],
      ['slow', 'succeeded', 1, 0],
    ],
  );
  const log = await storedLog(db.prisma, slowStage);
  assert.deepEqual(log.lines, ['started', ...numberedLines(LINES)], 'every line exactly once, in order; the stage started once');
  log.chunks.forEach((chunk, index) => assert.equal(chunk.seq, index + 1, 'chunk seqs are contiguous'));
  assert.ok(log.chunks.every((chunk) => chunk.attempt === 1));

  const created = await containersCreated(docker, runId, since, 'slow');
  assert.equal(created.length, 1, `one container was created for the stage, got ${created.length}`);
  assert.deepEqual(await findContainersByLabel(docker, { 'buildit.run': runId }), [], 'no container is left');
  assert.equal(survivor.exited, false);
  await stopWorker(survivor);
});
