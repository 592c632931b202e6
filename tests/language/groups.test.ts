/**
 * Concurrency groups through the server: runs triggered by the API's service, executed by the worker's run
 * job at the same time (real PostgreSQL, real Docker engine), ordered and cancelled by their group.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { triggerRun } from '../../lib/api/services/runs';
import { sleep } from '../../lib/async';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { dockerOrSkip } from '../support/engines';
import { exampleText } from '../support/language-runs';
import { RecordingPublisher, runJob, seedTenant, type Seeded } from '../runs/helpers';
import { runPipelineJob } from '../../worker/jobs/run-pipeline';

let db: TestDatabase;
let seeded: Seeded;
let scratch: string;

before(async () => {
  db = await createTestDatabase();
  seeded = await seedTenant(db.prisma);
  scratch = mkdtempSync(path.join(os.tmpdir(), 'buildit-language-groups-'));
});

after(async () => {
  await db?.drop();
  rmSync(scratch, { recursive: true, force: true });
});

function execute(runId: string) {
  return runPipelineJob(
    runJob(runId),
    { signal: new AbortController().signal },
    {
      prisma: db.prisma,
      publisher: new RecordingPublisher(db.prisma),
      dataDir: path.join(scratch, runId),
      cancelPollMs: 100,
      logger: pino({ level: 'silent' }),
    },
  );
}

async function stageRunning(runId: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await db.prisma.stageRun.count({ where: { runId, status: 'running' } })) > 0) return;
    await sleep(100);
  }
  throw new Error(`no stage of run ${runId} started`);
}

async function pipelineWith(slug: string, kdl: string): Promise<string> {
  return (await db.prisma.pipeline.create({ data: { tenantId: seeded.tenantId, name: slug, slug, config: kdl } })).id;
}

const push = (sha: string) => ({ event: 'push' as const, branch: 'main', sha, variables: {} });

/** The first push's deploy is long, the second's quick. */
async function deployPipeline(slug: string, cancelInProgress: boolean): Promise<string> {
  const kdl = (await exampleText('groups'))
    .replace('sleep 5', 'test ${git.short_sha} != 1111111 || sleep 4')
    .replace(' cancel-in-progress=#true', cancelInProgress ? ' cancel-in-progress=#true' : '');
  return pipelineWith(slug, kdl);
}

async function runsOf(pipelineId: string) {
  return db.prisma.pipelineRun.findMany({ where: { pipelineId }, include: { stages: true }, orderBy: { number: 'asc' } });
}

test('two quick pushes to one group with cancel-in-progress: the first is cancelled, the second succeeds after it', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  const pipelineId = await deployPipeline('cancelling', true);
  const first = await triggerRun(db.prisma, seeded.actor, pipelineId, push('1111111'), null);
  const firstJob = execute(first.id);
  await stageRunning(first.id);
  const second = await triggerRun(db.prisma, seeded.actor, pipelineId, push('2222222'), null);
  await Promise.all([firstJob, execute(second.id)]);
  const [older, newer] = await runsOf(pipelineId);
  assert.deepEqual([older!.status, newer!.status, older!.concurrencyGroup, newer!.concurrencyGroup], ['cancelled', 'succeeded', 'deploy-main', 'deploy-main']);
  assert.equal(older!.stages[0]!.status, 'cancelled');
  assert.ok(newer!.stages[0]!.startedAt! >= older!.finishedAt!, 'the second run started its stage after the first finished');
});

test('without cancel-in-progress a newer run waits for the older one, which finishes', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  const pipelineId = await deployPipeline('waiting', false);
  const first = await triggerRun(db.prisma, seeded.actor, pipelineId, push('1111111'), null);
  const firstJob = execute(first.id);
  await stageRunning(first.id);
  const second = await triggerRun(db.prisma, seeded.actor, pipelineId, push('2222222'), null);
  await Promise.all([firstJob, execute(second.id)]);
  const [older, newer] = await runsOf(pipelineId);
  assert.deepEqual([older!.status, newer!.status], ['succeeded', 'succeeded']);
  assert.ok(newer!.stages[0]!.startedAt! >= older!.stages[0]!.finishedAt!, 'the stages of the group never overlap');
});
