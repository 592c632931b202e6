/**
 * Server mode, resilience: 100 concurrent triggers through the REST API of a running BuildIt (scripts/start.ts:
 * web + one worker) with a second worker process on the same database → 100 runs, each executed exactly
 * once: every run succeeds, every `run` job was claimed once and completed once, and every stage ran once
 * (each run's local stage appends its BUILDIT_RUN_ID to one shared file: each id appears there once).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase } from '../support/db';
import { freeLoopbackPort } from '../../lib/system';
import { startBuildIt, stopWith, waitForReady } from '../support/buildit-process';
import { apiClient, Cleanup, startWorker, stopWorker, waitFor } from './resilience-support';

const TOKEN = `bk_${'concurrent-triggers-e2e'.padEnd(43, 'x')}`;
const RUNS = 100;

test(`${RUNS} concurrent triggers from the API with 2 workers → ${RUNS} runs, each executed exactly once`, async (t) => {
  const cleanup = new Cleanup(t);
  const db = await createTestDatabase();
  cleanup.defer(() => db.drop());
  const dataDir = mkdtempSync(path.join(tmpdir(), 'buildit-concurrent-'));
  cleanup.defer(() => rmSync(dataDir, { recursive: true, force: true }));
  const executions = path.join(dataDir, 'executions.txt');

  const env = { DATABASE_URL: db.url, BUILDIT_DATA_DIR: dataDir, BUILDIT_WORKER_CONCURRENCY: '4', BUILDIT_WORKER_EXECUTORS: 'docker,local' };
  const buildit = startBuildIt({ ...process.env, ...env, BUILDIT_BOOTSTRAP_TOKEN: TOKEN }, await freeLoopbackPort());
  cleanup.defer(async () => {
    if (buildit.process.exitCode === null && buildit.process.signalCode === null) await stopWith(buildit, 'SIGTERM');
  });
  const extra = startWorker(cleanup, 'extra-worker', env);
  await waitForReady(buildit);
  const context = () => `buildit:\n${buildit.output.slice(-40).join('\n')}\n--- extra worker:\n${extra.output.slice(-20).join('\n')}`;
  const api = apiClient(`http://127.0.0.1:${buildit.port}`, TOKEN);

  const tenants = await api<{ items: Array<{ id: string }> }>('GET', '/api/v1/tenants');
  assert.equal(tenants.status, 200, JSON.stringify(tenants.json));
  const config = `pipeline "concurrent" {
    on "manual"
}
stage "record" {
    executor "local"
    run "echo $BUILDIT_RUN_ID >> ${executions}"
}
`;
  const pipeline = await api<{ id: string }>('POST', `/api/v1/tenants/${tenants.json.items[0]!.id}/pipelines`, { name: 'Concurrent', config });
  assert.equal(pipeline.status, 201, JSON.stringify(pipeline.json));

  const startedAt = Date.now();
  const triggered = await Promise.all(
    Array.from({ length: RUNS }, () => api<{ id: string }>('POST', `/api/v1/pipelines/${pipeline.json.id}/runs`, { event: 'manual' })),
  );
  const rejected = triggered.filter((r) => r.status !== 201);
  assert.deepEqual(rejected, [], 'every trigger is accepted');
  const runIds = triggered.map((r) => r.json.id);
  assert.equal(new Set(runIds).size, RUNS, `${RUNS} distinct runs`);
  t.diagnostic(`${RUNS} triggers answered in ${Date.now() - startedAt} ms`);

  await waitFor(
    `all ${RUNS} runs to finish`,
    async () => (await db.prisma.pipelineRun.count({ where: { id: { in: runIds }, status: { in: ['succeeded', 'failed', 'cancelled'] } } })) === RUNS,
    { timeoutMs: 240_000, intervalMs: 250, context },
  );
  t.diagnostic(`${RUNS} runs finished ${Date.now() - startedAt} ms after the first trigger`);

  const runs = await db.prisma.pipelineRun.findMany({ where: { id: { in: runIds } }, include: { stages: true } });
  const notSucceeded = runs.filter((run) => run.status !== 'succeeded').map((run) => `${run.id}: ${run.status}`);
  assert.deepEqual(notSucceeded, [], context());
  for (const run of runs) {
    assert.deepEqual(
      run.stages.map((s) => [s.stageId, s.status, s.attempt, s.executor]),
      [['record', 'succeeded', 1, 'local']],
      `run ${run.id}`,
    );
  }

  // Run rows are final before their handlers return; each job is completed just after.
  const jobs = await waitFor(
    'every job to be completed',
    async () => {
      const rows = await db.prisma.$queryRawUnsafe<Array<{ run_id: string; status: string; attempts: number; locked_by: string }>>(
        `SELECT payload->>'runId' AS run_id, status::text AS status, attempts, locked_by FROM jobs WHERE kind = 'run' AND payload->>'runId' = ANY($1::text[])`,
        runIds,
      );
      return rows.some((row) => row.status === 'running') ? null : rows;
    },
    { context },
  );
  assert.equal(jobs.length, RUNS, 'one job per run');
  const notOnce = jobs.filter((job) => job.status !== 'succeeded' || job.attempts !== 1);
  assert.deepEqual(notOnce, [], 'every job claimed once and completed once');
  const byWorker = new Map<string, number>();
  for (const job of jobs) byWorker.set(job.locked_by, (byWorker.get(job.locked_by) ?? 0) + 1);
  t.diagnostic(`runs per worker: ${JSON.stringify(Object.fromEntries(byWorker))}`);

  assert.ok(existsSync(executions), 'the stages ran');
  const executed = readFileSync(executions, 'utf8').split('\n').filter(Boolean);
  const counts = new Map<string, number>();
  for (const id of executed) counts.set(id, (counts.get(id) ?? 0) + 1);
  assert.deepEqual(
    runIds.filter((id) => counts.get(id) !== 1).map((id) => `${id}: ${counts.get(id) ?? 0}`),
    [],
    'every run id appears exactly once in the executions file',
  );
  assert.equal(executed.length, RUNS, 'no other executions');

  await stopWorker(extra);
  assert.equal(await stopWith(buildit, 'SIGTERM'), 0);
});
