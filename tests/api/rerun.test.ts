// POST /api/v1/runs/{runId}/rerun through the real route handler on a real PostgreSQL. The old runs'
// outcomes are written directly (the worker's side is covered by tests/runs/rerun.test.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as pipelineRoute from '../../app/api/v1/pipelines/[pipelineId]/route';
import * as runsRoute from '../../app/api/v1/pipelines/[pipelineId]/runs/route';
import * as rerunRoute from '../../app/api/v1/runs/[runId]/rerun/route';
import { buildOpenApiDocument } from '../../lib/api/openapi';
import type { StageStatus } from '../../lib/generated/prisma/enums';
import { assertError, call, expectStatus, insertPipeline, useApiWorld, VALID_KDL } from './helpers';

const api = useApiWorld();

interface RunBody {
  id: string;
  number: number;
  rerunOfId: string | null;
  status: string;
  event: string;
  branch: string | null;
  tag: string | null;
  commitSha: string | null;
  commitMessage: string | null;
  commitAuthor: string | null;
  variables: Record<string, string>;
  triggeredById: string | null;
  stages: Array<{ id: string; stageId: string; status: string; reason: string | null; exitCode: number | null; startedAt: string | null }>;
}

/** VALID_KDL (build → test → deploy, deploy only on main) with a variable. */
const KDL = VALID_KDL.replace('stage "build" {', 'variable "GREETING" default="hello"\n\nstage "build" {').replace(
  'run "echo build',
  'run "echo ${var.GREETING} build',
);

const newPipeline = (config = KDL, tenantId = api.world.tenantA) => insertPipeline(api.database.prisma, tenantId, config);

async function trigger(pipelineId: string, body: unknown = {}): Promise<RunBody> {
  const result = await call(runsRoute.POST, 'POST', '/', { token: api.world.memberA.token, params: { pipelineId }, body });
  expectStatus(result, 201);
  return result.body as RunBody;
}

/** Marks the run finished with these stage outcomes (as the worker would have). */
async function finish(
  runId: string,
  status: 'succeeded' | 'failed' | 'cancelled',
  stages: Record<string, StageStatus>,
  exitCodes: Record<string, number> = {},
): Promise<void> {
  const now = new Date();
  await api.database.prisma.pipelineRun.update({ where: { id: runId }, data: { status, startedAt: now, finishedAt: now } });
  for (const [stageId, stageStatus] of Object.entries(stages)) {
    const ran = stageStatus === 'succeeded' || stageStatus === 'failed';
    await api.database.prisma.stageRun.updateMany({
      where: { runId, stageId },
      data: {
        status: stageStatus,
        exitCode: ran ? (exitCodes[stageId] ?? (stageStatus === 'succeeded' ? 0 : 1)) : null,
        ...(ran ? { startedAt: now } : {}),
        finishedAt: now,
      },
    });
  }
}

function rerun(runId: string, body?: unknown, token = api.world.memberA.token) {
  return call(rerunRoute.POST, 'POST', `/api/v1/runs/${runId}/rerun`, { token, params: { runId }, ...(body === undefined ? {} : { body }) });
}

const statuses = (run: RunBody) => run.stages.map((stage) => [stage.stageId, stage.status]);

describe('re-run all', () => {
  test('a new run with the same trigger, planned from the OLD config source, all stages pending; audited; job enqueued', async () => {
    const pipelineId = await newPipeline();
    const old = await trigger(pipelineId, {
      branch: 'feature/x',
      sha: 'abc1234',
      message: 'fix it',
      author: 'Ann <ann@example.test>',
      variables: { GREETING: 'hi' },
    });
    await finish(old.id, 'failed', { build: 'succeeded', test: 'failed', deploy: 'skipped' });
    // A later config edit must not leak into the re-run.
    const edited = await call(pipelineRoute.PATCH, 'PATCH', '/', {
      token: api.world.adminA.token,
      params: { pipelineId },
      body: { config: KDL.replace('echo test', 'echo edited') },
    });
    expectStatus(edited, 200);

    const result = await rerun(old.id, {}, api.world.adminA.token);
    expectStatus(result, 201);
    const run = result.body as RunBody;
    assert.equal(run.number, 2);
    assert.equal(run.status, 'queued');
    assert.equal(run.event, 'manual');
    assert.equal(run.branch, 'feature/x');
    assert.equal(run.commitSha, 'abc1234');
    assert.equal(run.commitMessage, 'fix it');
    assert.equal(run.commitAuthor, 'Ann <ann@example.test>');
    assert.deepEqual(run.variables, { GREETING: 'hi' });
    assert.equal(run.triggeredById, api.world.adminA.userId, 'the person who asked for the re-run');
    assert.equal(run.rerunOfId, old.id, 'the response links the run it re-runs');
    assert.deepEqual(statuses(run), [
      ['build', 'pending'],
      ['test', 'pending'],
      ['deploy', 'skipped'],
    ]);

    const stored = await api.database.prisma.pipelineRun.findUniqueOrThrow({ where: { id: run.id } });
    assert.equal(stored.rerunOfId, old.id);
    const previous = await api.database.prisma.pipelineRun.findUniqueOrThrow({ where: { id: old.id } });
    assert.equal(stored.configSource, previous.configSource);
    const plan = stored.plan as { stages: Array<{ id: string; commands: string[]; env: Record<string, string> }> };
    assert.deepEqual(plan.stages.find((s) => s.id === 'test')!.commands, ['echo test'], 'planned from the old config source');
    const build = plan.stages.find((s) => s.id === 'build')!;
    assert.deepEqual(build.commands, ['echo ${BUILDIT_VAR_GREETING} build ${BUILDIT_RUN_NUMBER}']);
    assert.deepEqual([build.env.BUILDIT_VAR_GREETING, build.env.BUILDIT_RUN_NUMBER], ['hi', '2'], 'with the old variables and the new run number');
    assert.equal(await api.database.prisma.job.count({ where: { dedupeKey: `run:${run.id}`, kind: 'run' } }), 1);
    const audit = await api.database.prisma.auditLog.findFirstOrThrow({ where: { action: 'run.rerun', targetId: run.id } });
    assert.equal(audit.tenantId, api.world.tenantA);
    assert.equal(audit.actorUserId, api.world.adminA.userId);
    assert.deepEqual(audit.details, { pipelineId, number: 2, rerunOfId: old.id, rerunOfNumber: 1, failedOnly: false, reused: [] });
  });

  test('an empty body means re-run all; a succeeded run can be re-run in full', async () => {
    const pipelineId = await newPipeline();
    const old = await trigger(pipelineId);
    await finish(old.id, 'succeeded', { build: 'succeeded', test: 'succeeded', deploy: 'succeeded' });
    const result = await rerun(old.id);
    expectStatus(result, 201);
    assert.deepEqual(statuses(result.body as RunBody), [
      ['build', 'pending'],
      ['test', 'pending'],
      ['deploy', 'pending'],
    ]);
  });
});

describe('re-run failed', () => {
  test('succeeded stages are reused (status, reason, exit code); the failed one and its dependents are pending', async () => {
    const pipelineId = await newPipeline();
    const old = await trigger(pipelineId);
    await finish(old.id, 'failed', { build: 'succeeded', test: 'failed', deploy: 'skipped' }, { build: 0, test: 2 });
    const result = await rerun(old.id, { failedOnly: true });
    expectStatus(result, 201);
    const run = result.body as RunBody;
    assert.deepEqual(statuses(run), [
      ['build', 'succeeded'],
      ['test', 'pending'],
      ['deploy', 'pending'],
    ]);
    const build = run.stages[0]!;
    assert.equal(build.reason, 'reused from run #1');
    assert.equal(build.exitCode, 0);
    assert.equal(build.startedAt, null, 'never started in the re-run');
    assert.equal(run.stages[1]!.reason, null);
    const audit = await api.database.prisma.auditLog.findFirstOrThrow({ where: { action: 'run.rerun', targetId: run.id } });
    assert.deepEqual((audit.details as { reused: string[]; failedOnly: boolean }).reused, ['build']);
    assert.equal((audit.details as { failedOnly: boolean }).failedOnly, true);
  });

  test('a succeeded stage is reused only when all its needs (transitively) are reused', async () => {
    const kdl = `pipeline "t" { on "manual"; }
stage "a" { executor "local"; run "echo a"; }
stage "b" needs="a" { executor "local"; run "echo b"; }
stage "c" needs="b" { executor "local"; run "echo c"; }
stage "d" { executor "local"; run "echo d"; }
stage "e" needs="d" { executor "local"; run "echo e"; }
`;
    const pipelineId = await newPipeline(kdl);
    const old = await trigger(pipelineId);
    // `a` failed but b and c succeeded (as with allow-failure): b and c are re-run too. d, e are reused.
    await finish(old.id, 'failed', { a: 'failed', b: 'succeeded', c: 'succeeded', d: 'succeeded', e: 'succeeded' });
    const run = (await rerun(old.id, { failedOnly: true })).body as RunBody;
    assert.deepEqual(Object.fromEntries(statuses(run)), { a: 'pending', b: 'pending', c: 'pending', d: 'succeeded', e: 'succeeded' });
  });

  test('cancelled stages count as not succeeded', async () => {
    const pipelineId = await newPipeline();
    const old = await trigger(pipelineId);
    await finish(old.id, 'cancelled', { build: 'succeeded', test: 'cancelled', deploy: 'cancelled' });
    const run = (await rerun(old.id, { failedOnly: true })).body as RunBody;
    assert.deepEqual(statuses(run), [
      ['build', 'succeeded'],
      ['test', 'pending'],
      ['deploy', 'pending'],
    ]);
  });

  test('nothing failed or was cancelled → 422 nothing_to_rerun, nothing written', async () => {
    const pipelineId = await newPipeline();
    const old = await trigger(pipelineId);
    await finish(old.id, 'succeeded', { build: 'succeeded', test: 'succeeded', deploy: 'succeeded' });
    assertError(await rerun(old.id, { failedOnly: true }), 422, 'nothing_to_rerun');
    assert.equal(await api.database.prisma.pipelineRun.count({ where: { pipelineId } }), 1);
    assert.equal((await api.database.prisma.pipeline.findUniqueOrThrow({ where: { id: pipelineId } })).nextRunNumber, 2);
  });
});

describe('refusals', () => {
  test('queued or running runs → 409 run_not_finished', async () => {
    const pipelineId = await newPipeline();
    const old = await trigger(pipelineId);
    const error = assertError(await rerun(old.id), 409, 'run_not_finished');
    assert.deepEqual(error.details, { status: 'queued' });
    await api.database.prisma.pipelineRun.update({ where: { id: old.id }, data: { status: 'running' } });
    assertError(await rerun(old.id, { failedOnly: true }), 409, 'run_not_finished');
  });

  test('unknown run → 404; another tenant or organization → 404; a viewer → 403', async () => {
    assertError(await rerun('cm00000000000000000000000'), 404, 'not_found');
    const pipelineId = await newPipeline();
    const old = await trigger(pipelineId);
    await finish(old.id, 'failed', { build: 'succeeded', test: 'failed', deploy: 'skipped' });
    assertError(await rerun(old.id, {}, api.world.outsider.token), 404, 'not_found');
    assertError(await rerun(old.id, {}, api.world.otherOwner.token), 404, 'not_found');
    assertError(await rerun(old.id, {}, api.world.viewerA.token), 403, 'forbidden');
    assertError(await rerun(old.id, {}, null as unknown as string), 401, 'unauthenticated');
    assert.equal(await api.database.prisma.pipelineRun.count({ where: { pipelineId } }), 1);
  });

  test('an invalid body → 422 validation_failed', async () => {
    const pipelineId = await newPipeline();
    const old = await trigger(pipelineId);
    await finish(old.id, 'failed', { build: 'succeeded', test: 'failed', deploy: 'skipped' });
    assertError(await rerun(old.id, { failedOnly: 'yes' }), 422, 'validation_failed');
    assertError(await rerun(old.id, { only: 'failed' }), 422, 'validation_failed');
  });

  test('a run without a stored config source → 422 config_unavailable', async () => {
    const pipelineId = await newPipeline();
    const old = await trigger(pipelineId);
    await finish(old.id, 'failed', { build: 'succeeded', test: 'failed', deploy: 'skipped' });
    await api.database.prisma.pipelineRun.update({ where: { id: old.id }, data: { configSource: null } });
    assertError(await rerun(old.id), 422, 'config_unavailable');
  });
});

test('OpenAPI: POST /api/v1/runs/{runId}/rerun is operation rerunRun with its body', () => {
  const doc = buildOpenApiDocument() as unknown as {
    paths: Record<string, Record<string, { operationId: string; requestBody?: unknown; responses: Record<string, unknown> }>>;
  };
  const operation = doc.paths['/api/v1/runs/{runId}/rerun']?.post;
  assert.ok(operation, 'the route is in the document');
  assert.equal(operation.operationId, 'rerunRun');
  assert.ok(operation.requestBody);
  assert.ok(operation.responses['201']);
  assert.match(JSON.stringify(operation.requestBody), /failedOnly/);
});
