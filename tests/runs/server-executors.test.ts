// Which executors a server worker runs stages on (real PostgreSQL, the real run job): `local` runs a
// stage as a process on the worker's own host, so it is off unless the operator enables it; a stage
// that needs a disabled executor fails with the reason, and an image stage never falls back to the host.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { TEST_IMAGE } from '../support/engines';
import { RecordingPublisher, runJob, seedTenant, storedLog, triggerPipeline, type Seeded } from './helpers';
import { runPipelineJob, type RunPipelineDeps } from '../../worker/jobs/run-pipeline';

let db: TestDatabase;
let seeded: Seeded;
let dataDir: string;
const neverAborted = { signal: new AbortController().signal };

before(async () => {
  db = await createTestDatabase();
  seeded = await seedTenant(db.prisma);
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'buildit-server-executors-'));
});

after(async () => {
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

function deps(extra: Partial<RunPipelineDeps> = {}): RunPipelineDeps {
  return { prisma: db.prisma, publisher: new RecordingPublisher(db.prisma), dataDir, cancelPollMs: 200, logger: pino({ level: 'silent' }), ...extra };
}

async function runToEnd(kdl: string, extra: Partial<RunPipelineDeps> = {}) {
  const { runId, stageRunIds } = await triggerPipeline(db.prisma, seeded, kdl);
  const outcome = await runPipelineJob(runJob(runId), neverAborted, deps(extra));
  assert.equal(outcome.kind, 'ran');
  const rows = await db.prisma.stageRun.findMany({ where: { runId } });
  const run = await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId } });
  return { run, stages: new Map(rows.map((row) => [row.stageId, row])), stageRunIds };
}

test('by default a worker does not run `executor "local"` stages: the stage fails saying how to enable it, and nothing runs on the host', async () => {
  const marker = path.join(dataDir, 'ran-on-the-host');
  const before = process.env.BUILDIT_WORKER_EXECUTORS;
  delete process.env.BUILDIT_WORKER_EXECUTORS; // the default, whatever the machine running the tests says
  try {
    const { run, stages, stageRunIds } = await runToEnd(`pipeline "own-the-server"
stage "s" {
    executor "local"
    run "id; touch ${marker}; cat $BUILDIT_DATA_DIR/postgres.json"
}
`);
    assert.equal(run.status, 'failed');
    const stage = stages.get('s')!;
    assert.equal(stage.status, 'failed');
    assert.match(stage.reason ?? '', /^executor "local" is disabled on this worker: .*BUILDIT_WORKER_EXECUTORS=docker,local/);
    assert.equal(existsSync(marker), false, 'the command ran on the worker host');
    const log = await storedLog(db.prisma, stageRunIds.get('s')!);
    assert.ok(!log.text.includes('uid='), log.text);
  } finally {
    if (before === undefined) delete process.env.BUILDIT_WORKER_EXECUTORS;
    else process.env.BUILDIT_WORKER_EXECUTORS = before;
  }
});

test('an operator who enables `local` gets it; an image stage still never runs on the host when docker is disabled', async () => {
  const { run, stages } = await runToEnd(
    `pipeline "host-only-worker"
stage "on-host" {
    executor "local"
    run "echo on the host"
}
stage "boxed" {
    image "${TEST_IMAGE}"
    run "echo must not run on the host"
}
`,
    { executorNames: ['local'] },
  );
  assert.equal(run.status, 'failed');
  assert.deepEqual([stages.get('on-host')!.status, stages.get('on-host')!.executor], ['succeeded', 'local']);
  const boxed = stages.get('boxed')!;
  assert.equal(boxed.status, 'failed');
  assert.match(boxed.reason ?? '', /^executor "docker" is disabled on this worker/);
});

test('a deploy stage on the server fails at once with "not supported yet" and fails the run; its dependents are skipped', async () => {
  const { run, stages } = await runToEnd(
    `pipeline "ship"
stage "build" {
    executor "local"
    run "echo built"
}
stage "ship" needs="build" { deploy environment="staging" service="web"; }
stage "smoke" needs="ship" {
    executor "local"
    run "echo never"
}
`,
    { executorNames: ['docker', 'local'] },
  );
  assert.equal(run.status, 'failed');
  const view = Object.fromEntries([...stages.values()].map((row) => [row.stageId, [row.status, row.reason, row.startedAt === null]]));
  assert.deepEqual(view, {
    build: ['succeeded', null, false],
    ship: ['failed', 'stage kind "deploy" is not supported yet', true],
    smoke: ['skipped', 'needs "ship" failed', true],
  });
});
