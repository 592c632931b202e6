import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as pipelineRoute from '../../app/api/v1/pipelines/[pipelineId]/route';
import * as tenantPipelinesRoute from '../../app/api/v1/tenants/[tenantId]/pipelines/route';
import * as tenantRoute from '../../app/api/v1/tenants/[tenantId]/route';
import * as tenantsRoute from '../../app/api/v1/tenants/route';
import { assertError, call, expectStatus, INVALID_KDL, useApiWorld, VALID_KDL } from './helpers';

const api = useApiWorld();

async function createPipeline(token: string, tenantId: string, body: Record<string, unknown>) {
  return call(tenantPipelinesRoute.POST, 'POST', `/api/v1/tenants/${tenantId}/pipelines`, { token, params: { tenantId }, body });
}

describe('tenants', () => {
  test('an owner lists every tenant of the organization, newest first; others see their own', async () => {
    const owner = await call(tenantsRoute.GET, 'GET', '/api/v1/tenants', { token: api.world.owner.token });
    expectStatus(owner, 200);
    const ownerSlugs = (owner.body as { items: Array<{ slug: string }> }).items.map((t) => t.slug);
    assert.deepEqual(ownerSlugs, ['b', 'a']);

    const member = await call(tenantsRoute.GET, 'GET', '/api/v1/tenants', { token: api.world.memberA.token });
    assert.deepEqual(
      (member.body as { items: Array<{ id: string }> }).items.map((t) => t.id),
      [api.world.tenantA],
    );

    const other = await call(tenantsRoute.GET, 'GET', '/api/v1/tenants', { token: api.world.otherOwner.token });
    assert.deepEqual(
      (other.body as { items: Array<{ id: string }> }).items.map((t) => t.id),
      [api.world.otherTenant],
    );
  });

  test('owners create tenants (audited); slug conflicts are 409; tenant admins may not create', async () => {
    const created = await call(tenantsRoute.POST, 'POST', '/api/v1/tenants', { token: api.world.owner.token, body: { name: 'Team Rocket!' } });
    expectStatus(created, 201);
    const tenant = created.body as { id: string; slug: string; organizationId: string };
    assert.equal(tenant.slug, 'team-rocket');
    assert.equal(tenant.organizationId, api.world.orgId);
    const audit = await api.database.prisma.auditLog.findFirst({ where: { action: 'tenant.create', targetId: tenant.id } });
    assert.equal(audit?.actorUserId, api.world.owner.userId);

    const again = await call(tenantsRoute.POST, 'POST', '/api/v1/tenants', { token: api.world.owner.token, body: { name: 'x', slug: 'team-rocket' } });
    assertError(again, 409, 'conflict');

    const denied = await call(tenantsRoute.POST, 'POST', '/api/v1/tenants', { token: api.world.adminA.token, body: { name: 'Nope' } });
    assertError(denied, 403, 'forbidden');
  });

  test('get a tenant: visible → 200, not visible or other organization → 404', async () => {
    expectStatus(await call(tenantRoute.GET, 'GET', '/', { token: api.world.viewerA.token, params: { tenantId: api.world.tenantA } }), 200);
    assertError(await call(tenantRoute.GET, 'GET', '/', { token: api.world.viewerA.token, params: { tenantId: api.world.tenantB } }), 404, 'not_found');
    assertError(await call(tenantRoute.GET, 'GET', '/', { token: api.world.owner.token, params: { tenantId: api.world.otherTenant } }), 404, 'not_found');
  });
});

describe('pipelines', () => {
  test('create, get, list, update, delete; each change audited', async () => {
    const created = await createPipeline(api.world.adminA.token, api.world.tenantA, { name: 'Web App', config: VALID_KDL });
    expectStatus(created, 201);
    const pipeline = created.body as { id: string; slug: string; config: string; defaultBranch: string; configPath: string; nextRunNumber: number };
    assert.equal(pipeline.slug, 'web-app');
    assert.equal(pipeline.config, VALID_KDL);
    assert.equal(pipeline.defaultBranch, 'main');
    assert.equal(pipeline.configPath, 'buildit.kdl');
    assert.equal(pipeline.nextRunNumber, 1);

    const got = await call(pipelineRoute.GET, 'GET', '/', { token: api.world.viewerA.token, params: { pipelineId: pipeline.id } });
    expectStatus(got, 200);
    assert.equal((got.body as { id: string }).id, pipeline.id);

    const listed = await call(tenantPipelinesRoute.GET, 'GET', '/', { token: api.world.viewerA.token, params: { tenantId: api.world.tenantA } });
    expectStatus(listed, 200);
    const items = (listed.body as { items: Array<{ id: string; config?: unknown }> }).items;
    assert.ok(items.some((p) => p.id === pipeline.id));
    assert.ok(
      items.every((p) => !('config' in p)),
      'lists do not carry the config',
    );

    const updated = await call(pipelineRoute.PATCH, 'PATCH', '/', {
      token: api.world.adminA.token,
      params: { pipelineId: pipeline.id },
      body: { name: 'Web', defaultBranch: 'develop' },
    });
    expectStatus(updated, 200);
    assert.equal((updated.body as { name: string }).name, 'Web');
    assert.equal((updated.body as { defaultBranch: string }).defaultBranch, 'develop');

    const deleted = await call(pipelineRoute.DELETE, 'DELETE', '/', { token: api.world.adminA.token, params: { pipelineId: pipeline.id } });
    expectStatus(deleted, 204);
    assertError(await call(pipelineRoute.GET, 'GET', '/', { token: api.world.adminA.token, params: { pipelineId: pipeline.id } }), 404, 'not_found');

    const actions = (await api.database.prisma.auditLog.findMany({ where: { targetId: pipeline.id }, orderBy: { createdAt: 'asc' } })).map((a) => a.action);
    assert.deepEqual(actions, ['pipeline.create', 'pipeline.update', 'pipeline.delete']);
  });

  test('invalid KDL → 422 invalid_pipeline with every diagnostic (line, column, message, severity, hint)', async () => {
    const result = await createPipeline(api.world.adminA.token, api.world.tenantA, { name: 'Broken', config: INVALID_KDL });
    const error = assertError(result, 422, 'invalid_pipeline');
    const diagnostics = error.details as Array<{ line: number; column: number; message: string; severity: string; hint?: string; rule: string }>;
    assert.equal(diagnostics.length, 2);
    assert.deepEqual(
      diagnostics.map((d) => [d.line, d.column, d.severity, d.rule]),
      [
        [2, 7, 'error', 'stage-kind'],
        [3, 3, 'error', 'unknown-node'],
      ],
    );
    assert.equal(diagnostics[1]!.hint, 'did you mean `image`?');
    assert.match(error.message, /2 errors.*buildit\.kdl:2:7/);
    assert.equal(await api.database.prisma.pipeline.count({ where: { name: 'Broken' } }), 0);

    const good = await createPipeline(api.world.adminA.token, api.world.tenantA, { name: 'Patch me', config: VALID_KDL });
    const id = (good.body as { id: string }).id;
    const patched = await call(pipelineRoute.PATCH, 'PATCH', '/', { token: api.world.adminA.token, params: { pipelineId: id }, body: { config: 'stage {' } });
    const patchError = assertError(patched, 422, 'invalid_pipeline');
    assert.ok((patchError.details as Array<{ line: number }>).every((d) => typeof d.line === 'number'));
  });

  test('a pipeline needs a config or a repository', async () => {
    const error = assertError(await createPipeline(api.world.adminA.token, api.world.tenantA, { name: 'Empty' }), 422, 'validation_failed');
    assert.deepEqual(
      (error.details as Array<{ path: string }>).map((d) => d.path),
      ['config'],
    );
    expectStatus(await createPipeline(api.world.adminA.token, api.world.tenantA, { name: 'From repo', repository: 'https://git.example/app.git' }), 201);
  });

  test('slug conflicts are 409 on create and update', async () => {
    expectStatus(await createPipeline(api.world.adminA.token, api.world.tenantA, { name: 'Dup', config: VALID_KDL }), 201);
    assertError(await createPipeline(api.world.adminA.token, api.world.tenantA, { name: 'Dup', config: VALID_KDL }), 409, 'conflict');
    const other = await createPipeline(api.world.adminA.token, api.world.tenantA, { name: 'Dup 2', config: VALID_KDL });
    const patched = await call(pipelineRoute.PATCH, 'PATCH', '/', {
      token: api.world.adminA.token,
      params: { pipelineId: (other.body as { id: string }).id },
      body: { slug: 'dup' },
    });
    assertError(patched, 409, 'conflict');
  });

  test('roles: viewers and members read but may not change pipelines; other tenants see 404', async () => {
    const created = await createPipeline(api.world.adminA.token, api.world.tenantA, { name: 'Guarded', config: VALID_KDL });
    const id = (created.body as { id: string }).id;
    assertError(await createPipeline(api.world.viewerA.token, api.world.tenantA, { name: 'V', config: VALID_KDL }), 403, 'forbidden');
    assertError(await createPipeline(api.world.memberA.token, api.world.tenantA, { name: 'M', config: VALID_KDL }), 403, 'forbidden');
    assertError(
      await call(pipelineRoute.PATCH, 'PATCH', '/', { token: api.world.memberA.token, params: { pipelineId: id }, body: { name: 'x' } }),
      403,
      'forbidden',
    );
    assertError(await call(pipelineRoute.DELETE, 'DELETE', '/', { token: api.world.viewerA.token, params: { pipelineId: id } }), 403, 'forbidden');
    // Not a member of tenant A, or another organization: the pipeline does not exist for them.
    for (const token of [api.world.outsider.token, api.world.otherOwner.token]) {
      assertError(await call(pipelineRoute.GET, 'GET', '/', { token, params: { pipelineId: id } }), 404, 'not_found');
      assertError(await call(pipelineRoute.DELETE, 'DELETE', '/', { token, params: { pipelineId: id } }), 404, 'not_found');
      assertError(await call(tenantPipelinesRoute.GET, 'GET', '/', { token, params: { tenantId: api.world.tenantA } }), 404, 'not_found');
      assertError(await createPipeline(token, api.world.tenantA, { name: 'Sneaky', config: VALID_KDL }), 404, 'not_found');
    }
    // The org owner sees every tenant.
    expectStatus(await call(pipelineRoute.GET, 'GET', '/', { token: api.world.owner.token, params: { pipelineId: id } }), 200);
  });

  test('keyset pagination: pages of `limit`, newest first, no duplicates, null cursor at the end', async () => {
    const tenant = await api.database.prisma.tenant.create({ data: { organizationId: api.world.orgId, slug: 'paged', name: 'Paged' } });
    for (let i = 0; i < 7; i++) await createPipeline(api.world.owner.token, tenant.id, { name: `p${i}`, config: VALID_KDL });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: Record<string, string> = { limit: '3', ...(cursor ? { cursor } : {}) };
      const page = await call(tenantPipelinesRoute.GET, 'GET', '/', { token: api.world.owner.token, params: { tenantId: tenant.id }, query });
      expectStatus(page, 200);
      const body = page.body as { items: Array<{ name: string }>; nextCursor: string | null };
      seen.push(...body.items.map((p) => p.name));
      cursor = body.nextCursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, ['p6', 'p5', 'p4', 'p3', 'p2', 'p1', 'p0']);
  });
});
