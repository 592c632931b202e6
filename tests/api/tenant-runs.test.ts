// The tenant-wide views of runs the web app's dashboard and run history read: every pipeline's runs with
// filters and pages, and the summary (counts since a time, durations and their median, active runs, the
// organization's queue and busy workers). Other tenants' runs never show; tenants one may not see are 404.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as runsRoute from '../../app/api/v1/tenants/[tenantId]/runs/route';
import * as summaryRoute from '../../app/api/v1/tenants/[tenantId]/summary/route';
import type { RunStatus } from '../../lib/events/types';
import type { TenantRun } from '../../lib/api/schemas/tenant-runs';
import type { TenantSummary } from '../../lib/api/schemas/summary';
import { enqueueJob } from '../../lib/queue/enqueue';
import { claimNextJob } from '../../lib/queue/claim';
import { assertError, call, expectStatus, insertPipeline, useApiWorld, VALID_KDL } from './helpers';

const HOUR = 3600_000;
const T0 = Date.now();

const api = useApiWorld();

let numbers = 0;
/** A run written directly, created `hoursAgo`, lasting `minutes` once finished. */
async function insertRun(pipelineId: string, status: RunStatus, options: { branch?: string; hoursAgo?: number; minutes?: number } = {}): Promise<string> {
  const createdAt = new Date(T0 - (options.hoursAgo ?? 0) * HOUR);
  const started = status !== 'queued';
  const finished = started && status !== 'running';
  const run = await api.database.prisma.pipelineRun.create({
    data: {
      pipelineId,
      number: ++numbers,
      status,
      event: 'manual',
      branch: options.branch ?? 'main',
      plan: { stages: [] },
      createdAt,
      startedAt: started ? createdAt : null,
      finishedAt: finished ? new Date(createdAt.getTime() + (options.minutes ?? 1) * 60_000) : null,
    },
  });
  return run.id;
}

async function namedPipeline(tenantId: string, name: string): Promise<string> {
  const id = await insertPipeline(api.database.prisma, tenantId, VALID_KDL);
  await api.database.prisma.pipeline.update({ where: { id }, data: { name } });
  return id;
}

async function listRuns(tenantId: string, query: Record<string, string> = {}, token = api.world.viewerA.token) {
  return call(runsRoute.GET, 'GET', '/', { token, params: { tenantId }, query });
}

async function summary(tenantId: string, query: Record<string, string> = {}, token = api.world.viewerA.token) {
  return call(summaryRoute.GET, 'GET', '/', { token, params: { tenantId }, query });
}

describe('GET /tenants/{tenantId}/runs', () => {
  test('lists the runs of every pipeline of the tenant, newest first, each with its pipeline; filters combine; pages follow', async () => {
    const { world } = api;
    const web = await namedPipeline(world.tenantA, 'web');
    const docs = await namedPipeline(world.tenantA, 'docs');
    const elsewhere = await namedPipeline(world.tenantB, 'elsewhere');
    const oldest = await insertRun(web, 'succeeded', { hoursAgo: 3 });
    const failed = await insertRun(docs, 'failed', { hoursAgo: 2, branch: 'feature/x' });
    const newest = await insertRun(web, 'running', { hoursAgo: 1, branch: 'feature/x' });
    await insertRun(elsewhere, 'failed', { hoursAgo: 1 });

    const all = await listRuns(world.tenantA);
    expectStatus(all, 200);
    const items = (all.body as { items: TenantRun[] }).items;
    assert.deepEqual(
      items.map((run) => run.id),
      [newest, failed, oldest],
      "tenant B's run is not listed",
    );
    assert.deepEqual(items[1]!.pipeline, {
      id: docs,
      name: 'docs',
      slug: (await api.database.prisma.pipeline.findUniqueOrThrow({ where: { id: docs } })).slug,
    });
    assert.equal(items[0]!.status, 'running');
    assert.equal(items[0]!.branch, 'feature/x');

    const ids = async (query: Record<string, string>) => ((await listRuns(world.tenantA, query)).body as { items: TenantRun[] }).items.map((run) => run.id);
    assert.deepEqual(await ids({ status: 'failed' }), [failed]);
    assert.deepEqual(await ids({ branch: 'feature/x' }), [newest, failed]);
    assert.deepEqual(await ids({ pipelineId: web }), [newest, oldest]);
    assert.deepEqual(await ids({ pipelineId: web, branch: 'feature/x', status: 'running' }), [newest]);
    assert.deepEqual(await ids({ pipelineId: elsewhere }), [], "another tenant's pipeline matches nothing");

    const first = (await listRuns(world.tenantA, { limit: '2' })).body as { items: TenantRun[]; nextCursor: string | null };
    assert.deepEqual(
      first.items.map((run) => run.id),
      [newest, failed],
    );
    assert.ok(first.nextCursor);
    const second = (await listRuns(world.tenantA, { limit: '2', cursor: first.nextCursor })).body as { items: TenantRun[]; nextCursor: string | null };
    assert.deepEqual(
      second.items.map((run) => run.id),
      [oldest],
    );
    assert.equal(second.nextCursor, null);
  });

  test('bad filters are 400; a tenant the caller may not see, or of another organization, is 404', async () => {
    const { world } = api;
    assertError(await listRuns(world.tenantA, { status: 'exploded' }), 400, 'invalid_query');
    assertError(await listRuns(world.tenantA, { pipelineId: 'not an id' }), 400, 'invalid_query');
    assertError(await listRuns(world.tenantB), 404, 'not_found');
    assertError(await listRuns(world.tenantA, {}, world.otherOwner.token), 404, 'not_found');
    assertError(await listRuns(world.otherTenant), 404, 'not_found');
  });
});

describe('GET /tenants/{tenantId}/summary', () => {
  test("counts the tenant's runs since a time by status, their durations and median, its active runs, and the organization's queue", async () => {
    const { world, database } = api;
    const tenant = await database.prisma.tenant.create({ data: { organizationId: world.orgId, slug: `summary-${process.pid}`, name: 'Summary' } });
    const sibling = await database.prisma.tenant.create({ data: { organizationId: world.orgId, slug: `sibling-${process.pid}`, name: 'Sibling' } });
    const pipeline = await namedPipeline(tenant.id, 'summarized');
    const siblingPipeline = await namedPipeline(sibling.id, 'sibling');
    await insertRun(pipeline, 'succeeded', { hoursAgo: 1, minutes: 2 });
    await insertRun(pipeline, 'succeeded', { hoursAgo: 2, minutes: 10 });
    await insertRun(pipeline, 'failed', { hoursAgo: 3, minutes: 4 });
    const running = await insertRun(pipeline, 'running', { hoursAgo: 0.5 });
    const oldQueued = await insertRun(pipeline, 'queued', { hoursAgo: 30 });
    await insertRun(pipeline, 'succeeded', { hoursAgo: 30, minutes: 60 });
    await insertRun(siblingPipeline, 'queued', { hoursAgo: 1 });

    const result = await summary(tenant.id, {}, world.owner.token);
    expectStatus(result, 200);
    const body = result.body as TenantSummary;
    assert.deepEqual(body.runs, { total: 4, queued: 0, running: 1, succeeded: 2, failed: 1, cancelled: 0 }, 'the last 24 hours by default');
    assert.deepEqual(
      body.durationsMs,
      [2, 4, 10].map((minutes) => minutes * 60_000),
    );
    assert.equal(body.medianDurationMs, 4 * 60_000);
    assert.deepEqual(
      body.active.map((run) => [run.id, run.status]),
      [
        [running, 'running'],
        [oldQueued, 'queued'],
      ],
      'every queued or running run of the tenant, older ones too',
    );
    assert.ok(body.organization.queuedRuns >= 2, `queued runs of every tenant of the organization: ${body.organization.queuedRuns}`);

    const longer = (await summary(tenant.id, { since: new Date(T0 - 48 * HOUR).toISOString() }, world.owner.token)).body as TenantSummary;
    assert.equal(longer.runs.total, 6);
    assert.equal(longer.medianDurationMs, 7 * 60_000, 'the mean of the two middle durations (4 and 10 minutes)');

    assertError(await summary(tenant.id, { since: new Date(T0 - 40 * 24 * HOUR).toISOString() }, world.owner.token), 400, 'invalid_query');
    assertError(await summary(tenant.id, {}, world.viewerA.token), 404, 'not_found');
    assertError(await summary(tenant.id, {}, world.otherOwner.token), 404, 'not_found');
  });

  test('busy workers: distinct workers holding a live lease on a run job of the organization', async () => {
    const { world, database } = api;
    const pipeline = await namedPipeline(world.tenantA, 'leased');
    const busyBefore = ((await summary(world.tenantA)).body as TenantSummary).organization.busyWorkers;
    for (const workerId of ['worker-1', 'worker-1', 'worker-2']) {
      const runId = await insertRun(pipeline, 'running');
      await enqueueJob(database.pool, { kind: 'run', payload: { runId }, dedupeKey: `run:${runId}` });
      assert.ok(await claimNextJob(database.pool, { workerId, kinds: ['run'], leaseMs: 60_000 }));
    }
    // Another organization's run job and a job of another kind are not counted.
    const otherPipeline = await namedPipeline(world.otherTenant, 'other');
    const otherRun = await insertRun(otherPipeline, 'running');
    await enqueueJob(database.pool, { kind: 'run', payload: { runId: otherRun }, dedupeKey: `run:${otherRun}` });
    assert.ok(await claimNextJob(database.pool, { workerId: 'worker-3', kinds: ['run'], leaseMs: 60_000 }));
    await enqueueJob(database.pool, { kind: 'commit_status', payload: {} });
    assert.ok(await claimNextJob(database.pool, { workerId: 'worker-4', kinds: ['commit_status'], leaseMs: 60_000 }));

    const after = (await summary(world.tenantA)).body as TenantSummary;
    assert.equal(after.organization.busyWorkers, busyBefore + 2);
    const other = (await summary(world.otherTenant, {}, world.otherOwner.token)).body as TenantSummary;
    assert.equal(other.organization.busyWorkers, 1);
  });
});
