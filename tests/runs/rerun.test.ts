// Re-runs end to end: the API's service creates the re-run (lib/api/services/runs.ts rerunRun) and the
// real `run` job handler executes it on the real local executor, against a real PostgreSQL.
//
// The pipeline's `test` stage fails until a file exists in a host directory (its path is in the pipeline's
// env: a re-run has the SAME config and trigger, so the test flips the world, not the pipeline). `build`
// appends a line to a counter file in that directory each time it really runs, and produces an artifact
// that `test` reads.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { rerunRun } from '../../lib/api/services/runs';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { RecordingPublisher, runJob, seedTenant, storedLog, triggerPipeline, type Seeded } from './helpers';
import { runPipelineJob, type RunPipelineDeps } from '../../worker/jobs/run-pipeline';
import { listArtifacts } from '../../lib/engine/workspace';

let db: TestDatabase;
let seeded: Seeded;
let dataDir: string;
const neverAborted = { signal: new AbortController().signal };
const silent = pino({ level: 'silent' });

before(async () => {
  db = await createTestDatabase();
  seeded = await seedTenant(db.prisma);
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'buildit-rerun-'));
});

after(async () => {
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

function deps(): RunPipelineDeps {
  return { prisma: db.prisma, publisher: new RecordingPublisher(db.prisma), dataDir, cancelPollMs: 200, logger: silent, executorNames: ['docker', 'local'] };
}

/** A host directory for one scenario, and a pipeline whose stages read and write there. */
function scenario() {
  const host = mkdtempSync(path.join(dataDir, 'host-'));
  const kdl = `pipeline "rerun" { on "manual"; }
env {
    BUILD_COUNTER "${host}/build-count"
    DOCS_COUNTER "${host}/docs-count"
    FLAG "${host}/tests-pass"
}
stage "build" {
    executor "local"
    run "echo built >> \\"$BUILD_COUNTER\\"; mkdir -p dist; echo payload-from-build > dist/app.txt"
    artifacts "dist/**"
}
stage "docs" {
    executor "local"
    run "echo docs >> \\"$DOCS_COUNTER\\"; mkdir -p site; echo docs > site/index.html"
    artifacts "site/**"
}
stage "test" needs="build" {
    executor "local"
    run "cat dist/app.txt"
    run "test -f \\"$FLAG\\" || { echo 'tests fail until the flag exists'; exit 3; }"
}
stage "report" needs="test" {
    executor "local"
    run "echo report"
}
`;
  return {
    kdl,
    builds: () => (existsSync(path.join(host, 'build-count')) ? readFileSync(path.join(host, 'build-count'), 'utf8').split('\n').filter(Boolean).length : 0),
    docsRuns: () => (existsSync(path.join(host, 'docs-count')) ? readFileSync(path.join(host, 'docs-count'), 'utf8').split('\n').filter(Boolean).length : 0),
    letTestsPass: () => writeFileSync(path.join(host, 'tests-pass'), ''),
  };
}

async function execute(runId: string) {
  const outcome = await runPipelineJob(runJob(runId), neverAborted, deps());
  assert.equal(outcome.kind, 'ran');
  const run = await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId }, include: { stages: true } });
  return { run, stages: new Map(run.stages.map((stage) => [stage.stageId, stage])) };
}

async function firstFailingRun(kdl: string) {
  const { runId } = await triggerPipeline(db.prisma, seeded, kdl);
  const first = await execute(runId);
  assert.equal(first.run.status, 'failed');
  assert.equal(first.stages.get('build')!.status, 'succeeded');
  assert.equal(first.stages.get('docs')!.status, 'succeeded');
  assert.equal(first.stages.get('test')!.status, 'failed');
  assert.equal(first.stages.get('test')!.exitCode, 3);
  assert.equal(first.stages.get('report')!.status, 'skipped');
  return runId;
}

const artifactsOf = (runId: string) => path.join(dataDir, 'workspaces', runId, 'artifacts');

describe('re-run failed', () => {
  test('reuses build (not executed again) and its artifact; runs test and what depends on it', async () => {
    const world = scenario();
    const firstId = await firstFailingRun(world.kdl);
    assert.equal(world.builds(), 1);
    assert.deepEqual(await listArtifacts(artifactsOf(firstId), 'build'), ['dist/app.txt'], 'the artifact store outlives the run');
    assert.equal(existsSync(path.join(dataDir, 'workspaces', firstId, 'workspace')), false, 'the workspace itself is removed');

    world.letTestsPass();
    const rerun = await rerunRun(db.prisma, seeded.actor, firstId, { failedOnly: true }, null);
    assert.equal(rerun.number, 2);
    const created = new Map(rerun.stages.map((stage) => [stage.stageId, stage]));
    assert.equal(created.get('build')!.status, 'succeeded');
    assert.equal(created.get('build')!.reason, 'reused from run #1');
    assert.equal(created.get('build')!.exitCode, 0);
    assert.equal(created.get('docs')!.status, 'succeeded');
    assert.equal(created.get('test')!.status, 'pending');
    assert.equal(created.get('report')!.status, 'pending');

    const second = await execute(rerun.id);
    assert.equal(second.run.status, 'succeeded');
    assert.equal(second.run.rerunOfId, firstId);
    assert.equal(world.builds(), 1, 'build was not executed again');
    assert.equal(world.docsRuns(), 1, 'docs was not executed again');
    const build = second.stages.get('build')!;
    assert.equal(build.status, 'succeeded');
    assert.equal(build.reason, 'reused from run #1');
    assert.equal(build.startedAt, null);
    assert.equal((await storedLog(db.prisma, build.id)).chunks.length, 0, 'a reused stage has no log of its own');
    const testStage = second.stages.get('test')!;
    assert.equal(testStage.status, 'succeeded');
    assert.match((await storedLog(db.prisma, testStage.id)).text, /payload-from-build/, 'test saw the reused artifact');
    assert.equal(second.stages.get('report')!.status, 'succeeded');
    assert.deepEqual(await listArtifacts(artifactsOf(rerun.id), 'build'), ['dist/app.txt'], "copied into the re-run's store");
    assert.deepEqual(await listArtifacts(artifactsOf(rerun.id), 'docs'), ['site/index.html'], 'every reused artifact is copied, needed or not');

    // Re-run all of the re-run: everything pending, build executed again.
    const all = await rerunRun(db.prisma, seeded.actor, rerun.id, { failedOnly: false }, null);
    assert.deepEqual(
      all.stages.map((stage) => [stage.stageId, stage.status]),
      [
        ['build', 'pending'],
        ['docs', 'pending'],
        ['test', 'pending'],
        ['report', 'pending'],
      ],
    );
    const third = await execute(all.id);
    assert.equal(third.run.status, 'succeeded');
    assert.equal(world.builds(), 2);
    assert.equal(world.docsRuns(), 2);
  });

  test("when the old run's artifacts are gone, the producer a running stage needs runs again (the others stay reused)", async () => {
    const world = scenario();
    const firstId = await firstFailingRun(world.kdl);
    rmSync(artifactsOf(firstId), { recursive: true, force: true });
    world.letTestsPass();
    const rerun = await rerunRun(db.prisma, seeded.actor, firstId, { failedOnly: true }, null);
    assert.equal(rerun.stages.find((stage) => stage.stageId === 'build')!.status, 'succeeded', 'the API cannot know; the worker decides');

    const second = await execute(rerun.id);
    assert.equal(second.run.status, 'succeeded');
    assert.equal(world.builds(), 2, 'build ran again: test needs its artifact');
    const build = second.stages.get('build')!;
    assert.equal(build.status, 'succeeded');
    assert.ok(build.startedAt, 'build really started in the re-run');
    assert.equal(build.reason, null);
    assert.match((await storedLog(db.prisma, second.stages.get('test')!.id)).text, /payload-from-build/);
    assert.equal(world.docsRuns(), 1, 'docs stays reused: no running stage needs its artifacts');
    assert.equal(second.stages.get('docs')!.reason, 'reused from run #1');
  });

  test('a re-run taken over after a worker crash still reuses its stages (recovery path)', async () => {
    const world = scenario();
    const firstId = await firstFailingRun(world.kdl);
    world.letTestsPass();
    const rerun = await rerunRun(db.prisma, seeded.actor, firstId, { failedOnly: true }, null);
    // A worker claimed it and died before starting anything: the next claim resumes it.
    await db.prisma.pipelineRun.update({ where: { id: rerun.id }, data: { status: 'running', startedAt: new Date() } });
    const outcome = await runPipelineJob(runJob(rerun.id, 2), neverAborted, deps());
    assert.equal(outcome.kind === 'ran' && outcome.resumed, true);
    const run = await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: rerun.id }, include: { stages: true } });
    assert.equal(run.status, 'succeeded');
    assert.equal(world.builds(), 1, 'build was not executed again');
    const testStage = run.stages.find((stage) => stage.stageId === 'test')!;
    assert.match((await storedLog(db.prisma, testStage.id)).text, /payload-from-build/);
  });

  test('a re-run of a re-run finds the artifacts through the chain of runs', async () => {
    const world = scenario();
    const firstId = await firstFailingRun(world.kdl);
    // Second run: build reused, test still fails.
    const rerun = await rerunRun(db.prisma, seeded.actor, firstId, { failedOnly: true }, null);
    const second = await execute(rerun.id);
    assert.equal(second.run.status, 'failed');
    assert.equal(second.stages.get('test')!.status, 'failed');
    // The copy in the second run's store is gone: the third run looks in the first run's.
    rmSync(artifactsOf(rerun.id), { recursive: true, force: true });
    world.letTestsPass();
    const again = await rerunRun(db.prisma, seeded.actor, rerun.id, { failedOnly: true }, null);
    assert.equal(again.stages.find((stage) => stage.stageId === 'build')!.reason, 'reused from run #2');
    const third = await execute(again.id);
    assert.equal(third.run.status, 'succeeded');
    assert.equal(world.builds(), 1, 'build ran only in the first run');
    assert.match((await storedLog(db.prisma, third.stages.get('test')!.id)).text, /payload-from-build/);
  });
});
