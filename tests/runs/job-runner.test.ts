// The `run` handler under the real JobRunner (lib/queue/runner.ts): a run triggered through the API's
// service is claimed and executed; a worker stopped gracefully mid-run hands the job back, leaves its
// container running, and a second worker resumes the run where it was.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import pino from 'pino';
import { JobRunner } from '../../lib/queue/runner';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { findContainersByLabel, removeContainersByLabel } from '../../lib/engine/executors';
import { dockerOrSkip } from '../support/engines';
import { createRunPipelineHandler } from '../../worker/jobs/run-pipeline';
import { RecordingPublisher, seedTenant, storedLog, triggerPipeline, type Seeded } from './helpers';

let db: TestDatabase;
let seeded: Seeded;
let dataDir: string;
const silent = pino({ level: 'silent' });
const docker = new Docker();

before(async () => {
  db = await createTestDatabase();
  seeded = await seedTenant(db.prisma);
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'buildit-runner-'));
});
after(async () => {
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

function runner(publisher: RecordingPublisher, workerId: string): JobRunner {
  const handler = createRunPipelineHandler({ prisma: db.prisma, publisher, dataDir, cancelPollMs: 200, logger: silent, executorNames: ['docker', 'local'] });
  return new JobRunner({ pool: db.pool, workerId, handlers: { run: handler }, pollMs: 200, log: silent, abortWaitMs: 5_000 });
}

async function waitFor<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('a triggered run is claimed by a worker and executed; its job succeeds', async () => {
  const { runId, stageRunIds } = await triggerPipeline(
    db.prisma,
    seeded,
    `pipeline "q" { on "manual"; }
stage "hello" {
    executor "local"
    run "echo hello from the queue"
}
`,
  );
  const worker = runner(new RecordingPublisher(db.prisma), 'worker-a');
  await worker.start();
  try {
    await waitFor('the run to finish', async () => {
      const run = await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId } });
      return run.finishedAt !== null && run;
    });
    await waitFor('the job to succeed', () => db.prisma.job.findFirst({ where: { dedupeKey: `run:${runId}`, status: 'succeeded' } }));
  } finally {
    await worker.stop({ graceMs: 1_000 });
  }
  assert.equal((await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId } })).status, 'succeeded');
  assert.deepEqual((await storedLog(db.prisma, stageRunIds.get('hello')!)).lines, ['hello from the queue']);
});

test('a worker stopped mid-run hands the job back; the next worker resumes the docker stage, each line once', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  const { runId, stageRunIds } = await triggerPipeline(
    db.prisma,
    seeded,
    `pipeline "handback" { on "manual"; }
stage "slow" {
    image "local/busybox:latest"
    run "i=1; while [ $i -le 10 ]; do echo line-$i; sleep 0.3; i=$((i+1)); done"
}
`,
  );
  try {
    const first = runner(new RecordingPublisher(db.prisma), 'worker-first');
    await first.start();
    await waitFor('line-2 to be stored', async () => (await storedLog(db.prisma, stageRunIds.get('slow')!)).lines.includes('line-2'));
    await first.stop({ graceMs: 0 });
    assert.equal((await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId } })).status, 'running');
    assert.equal((await findContainersByLabel(docker, { 'buildit.run': runId })).length, 1, 'the container outlives the stopped worker');

    const second = runner(new RecordingPublisher(db.prisma), 'worker-second');
    await second.start();
    try {
      await waitFor('the run to finish', async () => (await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId } })).finishedAt);
    } finally {
      await second.stop({ graceMs: 5_000 });
    }
    assert.equal((await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId } })).status, 'succeeded');
    const log = await storedLog(db.prisma, stageRunIds.get('slow')!);
    assert.deepEqual(
      log.lines,
      Array.from({ length: 10 }, (_, i) => `line-${i + 1}`),
    );
    const stage = await db.prisma.stageRun.findUniqueOrThrow({ where: { id: stageRunIds.get('slow')! } });
    assert.deepEqual({ status: stage.status, attempt: stage.attempt }, { status: 'succeeded', attempt: 1 });
    assert.deepEqual(await findContainersByLabel(docker, { 'buildit.run': runId }), []);
  } finally {
    await removeContainersByLabel(docker, { 'buildit.run': runId });
  }
});
