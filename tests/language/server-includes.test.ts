/**
 * `include` on the server: the config and the files it includes are read from the repository at the run's
 * commit (a real git repository), planned, run on the Docker engine, and kept with the run for re-runs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { rerunRun, triggerRun } from '../../lib/api/services/runs';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { dockerOrSkip } from '../support/engines';
import { exampleText } from '../support/language-runs';
import { RecordingPublisher, runJob, seedTenant, storedLog, type Seeded } from '../runs/helpers';
import { commitFiles, createRepository } from '../checkout/support';
import { runPipelineJob } from '../../worker/jobs/run-pipeline';

let db: TestDatabase;
let seeded: Seeded;
let dataDir: string;

before(async () => {
  db = await createTestDatabase();
  seeded = await seedTenant(db.prisma);
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'buildit-language-includes-'));
  process.env.BUILDIT_DATA_DIR = dataDir; // the trigger's mirror and the worker share it
  process.env.BUILDIT_FILE_REPOSITORIES = 'on'; // the repository here is a file:// one
});

after(async () => {
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('the included files are read at the run commit, planned, run, and kept for a re-run', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  const repo = path.join(dataDir, 'repos', 'app');
  createRepository(repo, { 'buildit.kdl': await exampleText('include/buildit'), 'ci/common.kdl': await exampleText('include/ci/common') });
  const pipeline = await db.prisma.pipeline.create({ data: { tenantId: seeded.tenantId, name: 'app', slug: 'app', repository: `file://${repo}` } });

  const run = await triggerRun(db.prisma, seeded.actor, pipeline.id, { event: 'push', branch: 'main', variables: {} }, null);
  assert.deepEqual(run.stages.map((s) => s.stageId).sort(), ['@checkout', 'lint', 'test']);
  await runPipelineJob(
    runJob(run.id),
    { signal: new AbortController().signal },
    {
      prisma: db.prisma,
      publisher: new RecordingPublisher(db.prisma),
      dataDir,
      logger: pino({ level: 'silent' }),
    },
  );
  const stages = await db.prisma.stageRun.findMany({ where: { runId: run.id } });
  const test = stages.find((s) => s.stageId === 'test')!;
  assert.equal(test.status, 'succeeded');
  assert.deepEqual((await storedLog(db.prisma, test.id)).lines, ['testing against registry.example.com']);

  // The include changes on the branch; a re-run still plans from what the run read.
  commitFiles(repo, { 'ci/common.kdl': '// emptied\n' }, 'empty the common file');
  const again = await rerunRun(db.prisma, seeded.actor, run.id, { failedOnly: false }, null);
  assert.deepEqual(again.stages.map((s) => s.stageId).sort(), ['@checkout', 'lint', 'test']);
});

test('a missing included file makes a failed run whose log says where', async () => {
  const repo = path.join(dataDir, 'repos', 'broken');
  createRepository(repo, { 'buildit.kdl': 'pipeline "p"\ninclude "ci/nope.kdl"\nstage "a" {\n    image "alpine"\n    run "true"\n}\n' });
  const pipeline = await db.prisma.pipeline.create({ data: { tenantId: seeded.tenantId, name: 'broken', slug: 'broken', repository: `file://${repo}` } });
  const run = await triggerRun(db.prisma, seeded.actor, pipeline.id, { event: 'manual', variables: {} }, null);
  assert.equal(run.status, 'failed');
  const config = await db.prisma.stageRun.findFirstOrThrow({ where: { runId: run.id } });
  const log = (await storedLog(db.prisma, config.id)).text;
  assert.match(log, /buildit\.kdl:2:9: error: cannot include "ci\/nope\.kdl": there is no such file in the repository/);
});
