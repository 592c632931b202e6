/**
 * The second edition of the language through the server: runs triggered by the API's service and executed
 * by the worker's run job (real PostgreSQL, real Docker engine), read back as the API shows them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { rerunRun, triggerRun } from '../../lib/api/services/runs';
import { stageRunDto } from '../../lib/api/serialize';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { dockerOrSkip } from '../support/engines';
import { exampleText } from '../support/language-runs';
import { RecordingPublisher, runJob, seedTenant, storedLog, type Seeded } from '../runs/helpers';
import { runPipelineJob } from '../../worker/jobs/run-pipeline';

let db: TestDatabase;
let seeded: Seeded;
let scratch: string;

before(async () => {
  db = await createTestDatabase();
  seeded = await seedTenant(db.prisma);
  scratch = mkdtempSync(path.join(os.tmpdir(), 'buildit-language-server-'));
});

after(async () => {
  await db?.drop();
  rmSync(scratch, { recursive: true, force: true });
});

async function execute(runId: string): Promise<void> {
  await runPipelineJob(
    runJob(runId),
    { signal: new AbortController().signal },
    { prisma: db.prisma, publisher: new RecordingPublisher(db.prisma), dataDir: path.join(scratch, runId), logger: pino({ level: 'silent' }) },
  );
}

async function stagesOf(runId: string) {
  const rows = await db.prisma.stageRun.findMany({ where: { runId }, orderBy: { stageId: 'asc' } });
  return rows.map(stageRunDto);
}

async function newPipeline(name: string, kdl: string): Promise<string> {
  const pipeline = await db.prisma.pipeline.create({ data: { tenantId: seeded.tenantId, name, slug: name, config: kdl } });
  return pipeline.id;
}

test('a failing deploy runs its failure notifier and its always cleanup, and nothing else', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  const pipelineId = await newPipeline('status', await exampleText('status-conditions'));
  const run = await triggerRun(db.prisma, seeded.actor, pipelineId, { event: 'push', branch: 'main', variables: { break: 'yes' } }, null);
  await execute(run.id);
  const stages = await stagesOf(run.id);
  assert.deepEqual(Object.fromEntries(stages.map((s) => [s.stageId, s.status])), {
    cleanup: 'succeeded',
    deploy: 'failed',
    notify: 'succeeded',
    'smoke-test': 'skipped',
  });
  assert.equal((await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: run.id } })).status, 'failed');
  const notify = stages.find((s) => s.stageId === 'notify')!;
  assert.deepEqual((await storedLog(db.prisma, notify.id)).lines, ['the deploy failed: paging the on-call']);
});

test('an output flows from producer to consumer, is stored with the stage run, and survives a re-run of failed stages', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  // The consumer fails the first time (a variable), so re-running the failed stages reuses the producer.
  const kdl = (await exampleText('outputs'))
    .replace('pipeline "outputs" {', 'variable "fail" default="no"\npipeline "outputs" {')
    .replace(
      'run "echo \\"$TITLE ships ${needs.version.outputs.IMAGE}\\""',
      'run "echo \\"$TITLE ships ${needs.version.outputs.IMAGE}\\"; test \\"${var.fail}\\" != yes"',
    );
  assert.notEqual(kdl, await exampleText('outputs'));
  const pipelineId = await newPipeline('outputs', kdl);
  const first = await triggerRun(
    db.prisma,
    seeded.actor,
    pipelineId,
    { event: 'push', branch: 'main', sha: '0123456789abcdef', variables: { fail: 'yes' } },
    null,
  );
  await execute(first.id);
  const firstStages = await stagesOf(first.id);
  const version = firstStages.find((s) => s.stageId === 'version')!;
  assert.deepEqual(version.outputs, { VERSION: '1.4.1', IMAGE: 'registry.example.com/app:0123456' });
  const notes = firstStages.find((s) => s.stageId === 'release-notes')!;
  assert.equal(notes.status, 'failed');
  assert.equal(notes.outputs, null);
  assert.deepEqual((await storedLog(db.prisma, notes.id)).lines, ['Release 1.4.1 ships registry.example.com/app:0123456']);

  const rerun = await rerunRun(db.prisma, seeded.actor, first.id, { failedOnly: true }, null);
  await execute(rerun.id);
  const again = await stagesOf(rerun.id);
  const reused = again.find((s) => s.stageId === 'version')!;
  assert.equal(reused.reason, 'reused from run #1');
  assert.deepEqual(reused.outputs, version.outputs);
  const notesAgain = again.find((s) => s.stageId === 'release-notes')!;
  assert.equal(notesAgain.status, 'failed', 'the re-run keeps the variable, so the stage fails again');
  assert.deepEqual((await storedLog(db.prisma, notesAgain.id)).lines, ['Release 1.4.1 ships registry.example.com/app:0123456']);
});

test('`when` on an output is tested when the worker reaches the stage: the consumer the output rules out is skipped with the reason', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  const pipelineId = await newPipeline('output-conditions', await exampleText('output-conditions'));
  const run = await triggerRun(db.prisma, seeded.actor, pipelineId, { event: 'push', branch: 'main', variables: { version: '1.4.0' } }, null);
  await execute(run.id);
  const stages = await stagesOf(run.id);
  assert.deepEqual(Object.fromEntries(stages.map((s) => [s.stageId, [s.status, s.reason]])), {
    check: ['succeeded', null],
    publish: ['skipped', 'when needs.check.outputs.RELEASE="yes" does not match "no"'],
    'up-to-date': ['succeeded', null],
  });
  const upToDate = stages.find((s) => s.stageId === 'up-to-date')!;
  assert.deepEqual((await storedLog(db.prisma, upToDate.id)).lines, ['1.4.0 is already published']);
});
