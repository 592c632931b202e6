/**
 * Server mode, resilience: PostgreSQL restarts (crash-like: `pg_ctl -m immediate`, down for 2 s) while a
 * real worker process runs a Docker stage that prints numbered lines. The worker rides it out: its log
 * writes are retried until the database is back (lib/runs/store-sink.ts), its heartbeats keep the lease (the
 * outage is shorter than the lease, so no other worker takes over and the job runs once), and the run ends
 * `succeeded` with every line stored exactly once in contiguous chunks. The server is this test's own
 * (see restartableDatabase).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPool, createPrismaClient } from '../../lib/db/client';
import { findContainersByLabel, removeContainersByLabel } from '../../lib/engine/executors';
import { dockerOrSkip, TEST_IMAGE } from '../support/engines';
import { seedTenant, storedLog, triggerPipeline } from '../runs/helpers';
import { Cleanup, logMessages, numberedLines, printNumberedLines, restartableDatabase, startWorker, stopWorker, waitFor } from './resilience-support';

const LINES = 100; // 0.1 s apart: ~10 s of output, the restart lands in the middle

test('PostgreSQL restarted during a run: the worker reconnects, the run succeeds, every line stored once', async (t) => {
  const docker = await dockerOrSkip(t);
  if (!docker) return;
  const cleanup = new Cleanup(t);
  const { server, url } = await restartableDatabase(cleanup, 'pg_restart_test');
  const pool = createPool(url, { max: 4, applicationName: 'pg-restart-test' });
  const prisma = createPrismaClient(pool);
  cleanup.defer(async () => {
    await prisma.$disconnect();
    await pool.end();
  });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'buildit-pg-restart-'));
  cleanup.defer(() => rmSync(dataDir, { recursive: true, force: true }));

  const seeded = await seedTenant(prisma);
  const { runId, stageRunIds } = await triggerPipeline(
    prisma,
    seeded,
    `pipeline "pg-restart" { on "manual"; }
stage "count" {
    image "${TEST_IMAGE}"
    run "${printNumberedLines(LINES, 0.1)}"
}
stage "after" needs="count" {
    image "${TEST_IMAGE}"
    run "echo after the restart"
}
`,
  );
  cleanup.defer(() => removeContainersByLabel(docker, { 'buildit.run': runId }));
  const countStage = stageRunIds.get('count')!;

  const worker = startWorker(cleanup, 'pg-restart-w1', { DATABASE_URL: url, BUILDIT_DATA_DIR: dataDir, BUILDIT_WORKER_CONCURRENCY: '1' });
  const context = () => `worker output:\n${worker.output.slice(-60).join('\n')}`;

  // Mid-stage: some lines stored, most still to come.
  const storedBefore = await waitFor(
    'the first lines of the stage to be stored',
    async () => {
      const { lines } = await storedLog(prisma, countStage);
      return lines.length >= 10 ? lines.length : 0;
    },
    { context },
  );
  await server.restart({ downMs: 2_000, mode: 'immediate' });
  const storedAfterRestart = await waitFor('the database to answer again', async () => (await storedLog(prisma, countStage)).lines.length + 1);
  t.diagnostic(`lines stored before the restart: ${storedBefore}; right after it: ${storedAfterRestart - 1} of ${LINES}`);
  assert.ok(storedAfterRestart - 1 < LINES, 'the restart happened while the stage was still printing');

  const finished = await waitFor(
    'the run to finish',
    async () => {
      const run = await prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId } });
      return ['succeeded', 'failed', 'cancelled'].includes(run.status) ? run : null;
    },
    { timeoutMs: 180_000, context },
  );
  assert.equal(finished.status, 'succeeded', context());

  const stages = await prisma.stageRun.findMany({ where: { runId }, orderBy: { stageId: 'asc' } });
  assert.deepEqual(
    stages.map((s) => [s.stageId, s.status, s.attempt, s.exitCode]),
    [
      ['after', 'succeeded', 1, 0],
      ['count', 'succeeded', 1, 0],
    ],
  );
  const log = await storedLog(prisma, countStage);
  assert.deepEqual(log.lines, numberedLines(LINES), 'every line exactly once, in order');
  log.chunks.forEach((chunk, index) => assert.equal(chunk.seq, index + 1, 'chunk seqs are contiguous'));
  let nextLine = 1;
  for (const chunk of log.chunks) {
    assert.equal(chunk.firstLine, nextLine, 'chunk line numbers are contiguous');
    nextLine += chunk.lineCount;
  }

  // The same worker kept the job through the outage: one attempt, never taken over.
  // The run row is final before the handler returns; the job is completed just after it.
  const job = await waitFor('the job to be completed', async () => {
    const [row] = await prisma.$queryRawUnsafe<Array<{ status: string; attempts: number; locked_by: string }>>(
      `SELECT status::text AS status, attempts, locked_by FROM jobs WHERE payload->>'runId' = $1`,
      runId,
    );
    return row?.status === 'running' ? null : row;
  });
  assert.deepEqual(job, { status: 'succeeded', attempts: 1, locked_by: 'pg-restart-w1' });
  assert.equal(worker.exited, false, 'the worker did not crash');
  const messages = logMessages(worker);
  assert.ok(
    messages.some((m) => m.includes('database unreachable: retrying the write')),
    `the worker's log writes met the outage and were retried:\n${context()}`,
  );
  assert.deepEqual(await findContainersByLabel(docker, { 'buildit.run': runId }), [], 'no container is left');
  await stopWorker(worker);
});
