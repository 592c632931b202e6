import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as runsRoute from '../../app/api/v1/pipelines/[pipelineId]/runs/route';
import * as pipelineRoute from '../../app/api/v1/pipelines/[pipelineId]/route';
import * as cancelRoute from '../../app/api/v1/runs/[runId]/cancel/route';
import * as runRoute from '../../app/api/v1/runs/[runId]/route';
import * as logsRoute from '../../app/api/v1/runs/[runId]/stages/[stageRunId]/logs/route';
import { assertError, call, expectStatus, insertPipeline, useApiWorld, VALID_KDL } from './helpers';

const api = useApiWorld();

interface RunBody {
  id: string;
  number: number;
  status: string;
  branch: string | null;
  event: string;
  cancelRequestedAt: string | null;
  stages: Array<{ id: string; stageId: string; status: string; reason: string | null; needs: string[] }>;
}

const newPipeline = (config = VALID_KDL, tenantId = api.world.tenantA) => insertPipeline(api.database.prisma, tenantId, config);

function trigger(pipelineId: string, body: unknown = {}, token = api.world.memberA.token) {
  return call(runsRoute.POST, 'POST', `/api/v1/pipelines/${pipelineId}/runs`, { token, params: { pipelineId }, body });
}

describe('trigger', () => {
  test('creates the run, one stage run per planned stage and the run job, in one transaction', async () => {
    const pipelineId = await newPipeline();
    const result = await trigger(pipelineId, { branch: 'feature/x', sha: 'abc1234', variables: {} });
    expectStatus(result, 201);
    const run = result.body as RunBody;
    assert.equal(run.number, 1);
    assert.equal(run.status, 'queued');
    assert.equal(run.event, 'manual');
    assert.equal(run.branch, 'feature/x');
    assert.deepEqual(
      run.stages.map((s) => [s.stageId, s.status]),
      [
        ['build', 'pending'],
        ['test', 'pending'],
        ['deploy', 'skipped'],
      ],
    );
    assert.match(run.stages[2]!.reason ?? '', /branch/);
    assert.deepEqual(run.stages[1]!.needs, ['build']);

    const stored = await api.database.prisma.pipelineRun.findUniqueOrThrow({ where: { id: run.id }, include: { stages: true } });
    assert.equal(stored.stages.length, 3);
    assert.equal(stored.triggeredById, api.world.memberA.userId);
    const plan = stored.plan as { triggered: boolean; stages: Array<{ commands: string[]; env: Record<string, string> }> };
    assert.equal(plan.triggered, true);
    assert.deepEqual(plan.stages[0]!.commands, ['echo build ${BUILDIT_RUN_NUMBER}']);
    assert.equal(plan.stages[0]!.env.BUILDIT_RUN_NUMBER, '1', 'the plan was made with the real run number');
    const jobs = await api.database.prisma.job.findMany({ where: { dedupeKey: `run:${run.id}` } });
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0]!.kind, 'run');
    assert.deepEqual(jobs[0]!.payload, { runId: run.id });
    assert.ok(await api.database.prisma.auditLog.findFirst({ where: { action: 'run.trigger', targetId: run.id } }));
    const pipeline = await api.database.prisma.pipeline.findUniqueOrThrow({ where: { id: pipelineId } });
    assert.equal(pipeline.nextRunNumber, 2);
  });

  test('without a branch the default branch is used', async () => {
    const pipelineId = await newPipeline();
    const run = (await trigger(pipelineId)).body as RunBody;
    assert.equal(run.branch, 'main');
    assert.equal(run.stages.find((s) => s.stageId === 'deploy')?.status, 'pending');
  });

  test('a pipeline not triggered by the event/branch → 422 not_triggered, and nothing is written', async () => {
    const pipelineId = await newPipeline();
    const error = assertError(await trigger(pipelineId, { event: 'push', branch: 'dev' }), 422, 'not_triggered');
    assert.match(error.message, /branch "dev"/);
    assert.equal(await api.database.prisma.pipelineRun.count({ where: { pipelineId } }), 0);
    assert.equal((await api.database.prisma.pipeline.findUniqueOrThrow({ where: { id: pipelineId } })).nextRunNumber, 1, 'the number increment rolled back');
    expectStatus(await trigger(pipelineId, { event: 'push', branch: 'main' }), 201);
  });

  test('a PlanError (unknown variable) → 422 plan_failed, nothing written', async () => {
    const pipelineId = await newPipeline();
    const jobsBefore = await api.database.prisma.job.count();
    const error = assertError(await trigger(pipelineId, { variables: { NOPE: '1' } }), 422, 'plan_failed');
    assert.match(error.message, /NOPE/);
    assert.equal(await api.database.prisma.pipelineRun.count({ where: { pipelineId } }), 0);
    assert.equal(await api.database.prisma.stageRun.count({ where: { run: { pipelineId } } }), 0);
    assert.equal(await api.database.prisma.job.count(), jobsBefore);
  });

  test('a pipeline reading its config from an unreachable repository → 422 source_unavailable naming the branch', async () => {
    // Port 1 of the loopback: nothing listens, the connection is refused at once (tests/checkout covers real repositories).
    const pipeline = await api.database.prisma.pipeline.create({
      data: { tenantId: api.world.tenantA, name: 'repo', slug: 'repo-only', repository: 'git://127.0.0.1:1/x.git' },
    });
    const error = assertError(await trigger(pipeline.id), 422, 'source_unavailable');
    assert.match(error.message, /branch "main"/);
    assert.match(error.message, /unreachable/);
  });

  test('run numbers stay unique and gapless under 20 concurrent triggers', async () => {
    const pipelineId = await newPipeline();
    const results = await Promise.all(Array.from({ length: 20 }, () => trigger(pipelineId)));
    for (const result of results) expectStatus(result, 201);
    const numbers = results.map((r) => (r.body as RunBody).number).sort((a, b) => a - b);
    assert.deepEqual(
      numbers,
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    assert.equal(await api.database.prisma.pipelineRun.count({ where: { pipelineId } }), 20);
    assert.equal(await api.database.prisma.stageRun.count({ where: { run: { pipelineId } } }), 60);
    const runIds = results.map((r) => (r.body as RunBody).id);
    assert.equal(await api.database.prisma.job.count({ where: { dedupeKey: { in: runIds.map((id) => `run:${id}`) } } }), 20);
  });

  test('viewers may not trigger (403); other tenants and organizations get 404', async () => {
    const pipelineId = await newPipeline();
    assertError(await trigger(pipelineId, {}, api.world.viewerA.token), 403, 'forbidden');
    assertError(await trigger(pipelineId, {}, api.world.outsider.token), 404, 'not_found');
    assertError(await trigger(pipelineId, {}, api.world.otherOwner.token), 404, 'not_found');
  });

  test('a pipeline with a queued run cannot be deleted (409 pipeline_busy)', async () => {
    const pipelineId = await newPipeline();
    expectStatus(await trigger(pipelineId), 201);
    assertError(await call(pipelineRoute.DELETE, 'DELETE', '/', { token: api.world.adminA.token, params: { pipelineId } }), 409, 'pipeline_busy');
  });
});

describe('list and get', () => {
  test('runs are listed newest first with a status filter and keyset pagination', async () => {
    const pipelineId = await newPipeline();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(((await trigger(pipelineId)).body as RunBody).id);
    await api.database.prisma.pipelineRun.update({ where: { id: ids[1]! }, data: { status: 'succeeded' } });

    const first = await call(runsRoute.GET, 'GET', '/', { token: api.world.viewerA.token, params: { pipelineId }, query: { limit: '2' } });
    expectStatus(first, 200);
    const page1 = first.body as { items: Array<{ number: number }>; nextCursor: string };
    assert.deepEqual(
      page1.items.map((r) => r.number),
      [5, 4],
    );
    const second = await call(runsRoute.GET, 'GET', '/', {
      token: api.world.viewerA.token,
      params: { pipelineId },
      query: { limit: '2', cursor: page1.nextCursor },
    });
    assert.deepEqual(
      (second.body as { items: Array<{ number: number }> }).items.map((r) => r.number),
      [3, 2],
    );

    const succeeded = await call(runsRoute.GET, 'GET', '/', { token: api.world.viewerA.token, params: { pipelineId }, query: { status: 'succeeded' } });
    assert.deepEqual(
      (succeeded.body as { items: Array<{ id: string }> }).items.map((r) => r.id),
      [ids[1]],
    );
    assertError(
      await call(runsRoute.GET, 'GET', '/', { token: api.world.viewerA.token, params: { pipelineId }, query: { status: 'bogus' } }),
      400,
      'invalid_query',
    );
  });

  test('get a run with its stages; invisible runs are 404', async () => {
    const pipelineId = await newPipeline();
    const run = (await trigger(pipelineId)).body as RunBody;
    const got = await call(runRoute.GET, 'GET', '/', { token: api.world.viewerA.token, params: { runId: run.id } });
    expectStatus(got, 200);
    assert.deepEqual(
      (got.body as RunBody).stages.map((s) => s.stageId),
      ['build', 'test', 'deploy'],
    );
    assertError(await call(runRoute.GET, 'GET', '/', { token: api.world.outsider.token, params: { runId: run.id } }), 404, 'not_found');
  });
});

describe('cancel', () => {
  test('a queued run is cancelled at once, with its pending stages', async () => {
    const pipelineId = await newPipeline();
    const run = (await trigger(pipelineId)).body as RunBody;
    const result = await call(cancelRoute.POST, 'POST', '/', { token: api.world.memberA.token, params: { runId: run.id } });
    expectStatus(result, 200);
    const cancelled = result.body as RunBody;
    assert.equal(cancelled.status, 'cancelled');
    assert.ok(cancelled.cancelRequestedAt);
    assert.deepEqual(
      cancelled.stages.map((s) => s.status),
      ['cancelled', 'cancelled', 'cancelled'],
    );
    assert.ok(await api.database.prisma.auditLog.findFirst({ where: { action: 'run.cancel', targetId: run.id } }));
    // Finished now: a second cancel is a conflict.
    assertError(await call(cancelRoute.POST, 'POST', '/', { token: api.world.memberA.token, params: { runId: run.id } }), 409, 'run_finished');
  });

  test('a running run gets cancelRequestedAt and keeps running (the worker stops it)', async () => {
    const pipelineId = await newPipeline();
    const run = (await trigger(pipelineId)).body as RunBody;
    await api.database.prisma.pipelineRun.update({ where: { id: run.id }, data: { status: 'running', startedAt: new Date() } });
    const result = await call(cancelRoute.POST, 'POST', '/', { token: api.world.memberA.token, params: { runId: run.id } });
    expectStatus(result, 200);
    assert.equal((result.body as RunBody).status, 'running');
    assert.ok((result.body as RunBody).cancelRequestedAt);
    // Idempotent while it is still running.
    expectStatus(await call(cancelRoute.POST, 'POST', '/', { token: api.world.memberA.token, params: { runId: run.id } }), 200);
  });

  test('finished runs → 409; viewers → 403; other tenants → 404', async () => {
    const pipelineId = await newPipeline();
    const run = (await trigger(pipelineId)).body as RunBody;
    assertError(await call(cancelRoute.POST, 'POST', '/', { token: api.world.viewerA.token, params: { runId: run.id } }), 403, 'forbidden');
    assertError(await call(cancelRoute.POST, 'POST', '/', { token: api.world.outsider.token, params: { runId: run.id } }), 404, 'not_found');
    await api.database.prisma.pipelineRun.update({ where: { id: run.id }, data: { status: 'failed', finishedAt: new Date() } });
    assertError(await call(cancelRoute.POST, 'POST', '/', { token: api.world.memberA.token, params: { runId: run.id } }), 409, 'run_finished');
  });
});

describe('logs', () => {
  test('chunks after a seq, as JSON or text; `complete` once the stage finished', async () => {
    const pipelineId = await newPipeline();
    const run = (await trigger(pipelineId)).body as RunBody;
    const stage = run.stages[0]!;
    await api.database.prisma.logChunk.createMany({
      data: [0, 1, 2, 3].map((seq) => ({ stageRunId: stage.id, seq, text: `line ${seq}\n`, firstLine: seq + 1, lineCount: 1, streams: seq === 2 ? 'e' : 'o' })),
    });
    const params = { runId: run.id, stageRunId: stage.id };

    const all = await call(logsRoute.GET, 'GET', '/', { token: api.world.viewerA.token, params });
    expectStatus(all, 200);
    const page = all.body as {
      chunks: Array<{ seq: number; text: string; firstLine: number; lines: Array<{ stream: string; line: string }> }>;
      next: number;
      complete: boolean;
      stageStatus: string;
    };
    assert.deepEqual(
      page.chunks.map((c) => c.seq),
      [0, 1, 2, 3],
    );
    assert.equal(page.next, 3);
    assert.equal(page.complete, false);

    const rest = await call(logsRoute.GET, 'GET', '/', { token: api.world.viewerA.token, params, query: { after: '1', limit: '1' } });
    assert.deepEqual(
      (rest.body as typeof page).chunks.map(({ text, firstLine, lines }) => ({ text, firstLine, lines })),
      [{ text: 'line 2\n', firstLine: 3, lines: [{ stream: 'stderr', line: 'line 2' }] }],
    );
    assert.equal((rest.body as typeof page).next, 2);

    await api.database.prisma.stageRun.update({ where: { id: stage.id }, data: { status: 'succeeded' } });
    const text = await call(logsRoute.GET, 'GET', '/', { token: api.world.viewerA.token, params, query: { after: '0', format: 'text' } });
    expectStatus(text, 200);
    assert.match(text.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(text.text, 'line 1\nline 2\nline 3\n');
    assert.equal(text.headers.get('buildit-log-next'), '3');
    assert.equal(text.headers.get('buildit-log-complete'), 'true');

    const blank = await call(logsRoute.GET, 'GET', '/', { token: api.world.viewerA.token, params, query: { after: '', limit: '', format: '' } });
    assert.deepEqual(
      (blank.body as typeof page).chunks.map((c) => c.seq),
      [0, 1, 2, 3],
      'empty query values are absent values',
    );

    const empty = await call(logsRoute.GET, 'GET', '/', { token: api.world.viewerA.token, params, query: { after: '3' } });
    assert.deepEqual((empty.body as typeof page).chunks, []);
    assert.equal((empty.body as typeof page).next, 3);
  });

  test('a stage of another run → 404; other tenants → 404', async () => {
    const pipelineId = await newPipeline();
    const runA = (await trigger(pipelineId)).body as RunBody;
    const runB = (await trigger(pipelineId)).body as RunBody;
    const crossed = await call(logsRoute.GET, 'GET', '/', { token: api.world.viewerA.token, params: { runId: runA.id, stageRunId: runB.stages[0]!.id } });
    assertError(crossed, 404, 'not_found');
    assertError(
      await call(logsRoute.GET, 'GET', '/', { token: api.world.outsider.token, params: { runId: runA.id, stageRunId: runA.stages[0]!.id } }),
      404,
      'not_found',
    );
  });
});
