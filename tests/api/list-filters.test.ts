// The list filters the web UI's pipeline pages use: pipelines by a search text (each with its newest run),
// runs of a pipeline by branch (with the status filter and pagination).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as runsRoute from '../../app/api/v1/pipelines/[pipelineId]/runs/route';
import * as pipelinesRoute from '../../app/api/v1/tenants/[tenantId]/pipelines/route';
import { assertError, call, expectStatus, insertPipeline, useApiWorld, VALID_KDL } from './helpers';

const api = useApiWorld();

interface ListedPipeline {
  id: string;
  name: string;
  lastRun: { id: string; number: number; status: string; branch: string | null; createdAt: string } | null;
}

async function namedPipeline(name: string): Promise<string> {
  const id = await insertPipeline(api.database.prisma, api.world.tenantA, VALID_KDL);
  await api.database.prisma.pipeline.update({ where: { id }, data: { name } });
  return id;
}

async function trigger(pipelineId: string, branch: string): Promise<string> {
  const result = await call(runsRoute.POST, 'POST', '/', { token: api.world.memberA.token, params: { pipelineId }, body: { branch } });
  expectStatus(result, 201);
  return (result.body as { id: string }).id;
}

async function listPipelines(query: Record<string, string>): Promise<ListedPipeline[]> {
  const result = await call(pipelinesRoute.GET, 'GET', '/', { token: api.world.viewerA.token, params: { tenantId: api.world.tenantA }, query });
  expectStatus(result, 200);
  return (result.body as { items: ListedPipeline[] }).items;
}

describe('pipelines list', () => {
  test('?q= finds pipelines by name or slug, case-insensitively; each comes with its newest run', async () => {
    const marker = `Quokka${process.pid}`;
    const ran = await namedPipeline(`${marker} web`);
    const never = await namedPipeline(`the ${marker.toLowerCase()} api`);
    await namedPipeline('unrelated');
    await trigger(ran, 'main');
    const newest = await trigger(ran, 'feature/search');

    const found = await listPipelines({ q: marker.toUpperCase() });
    assert.deepEqual(found.map((p) => p.id).sort(), [ran, never].sort());
    const withRun = found.find((p) => p.id === ran)!;
    assert.equal(withRun.lastRun?.id, newest);
    assert.equal(withRun.lastRun?.number, 2);
    assert.equal(withRun.lastRun?.status, 'queued');
    assert.equal(withRun.lastRun?.branch, 'feature/search');
    assert.equal(found.find((p) => p.id === never)!.lastRun, null);

    const slug = (await api.database.prisma.pipeline.findUniqueOrThrow({ where: { id: never } })).slug;
    assert.deepEqual(
      (await listPipelines({ q: slug })).map((p) => p.id),
      [never],
    );
    assert.deepEqual(await listPipelines({ q: `${marker}-nothing` }), []);
  });
});

describe('runs list', () => {
  test('?branch= keeps the runs of one branch, with the status filter and pagination', async () => {
    const pipelineId = await namedPipeline('branches');
    const onMain = [await trigger(pipelineId, 'main'), await trigger(pipelineId, 'main'), await trigger(pipelineId, 'main')];
    await trigger(pipelineId, 'release/1.x');
    await api.database.prisma.pipelineRun.update({ where: { id: onMain[0]! }, data: { status: 'failed' } });
    const list = (query: Record<string, string>) => call(runsRoute.GET, 'GET', '/', { token: api.world.viewerA.token, params: { pipelineId }, query });

    const first = await list({ branch: 'main', limit: '2' });
    expectStatus(first, 200);
    const page1 = first.body as { items: Array<{ id: string; branch: string }>; nextCursor: string };
    assert.deepEqual(
      page1.items.map((r) => r.id),
      [onMain[2], onMain[1]],
    );
    const page2 = (await list({ branch: 'main', limit: '2', cursor: page1.nextCursor })).body as { items: Array<{ id: string }>; nextCursor: string | null };
    assert.deepEqual(
      page2.items.map((r) => r.id),
      [onMain[0]],
    );
    assert.equal(page2.nextCursor, null);
    assert.deepEqual(
      ((await list({ branch: 'main', status: 'failed' })).body as { items: Array<{ id: string }> }).items.map((r) => r.id),
      [onMain[0]],
    );
    assert.deepEqual(((await list({ branch: 'nope' })).body as { items: unknown[] }).items, []);
    assertError(await list({ branch: 'bad..name' }), 400, 'invalid_query');
  });
});
