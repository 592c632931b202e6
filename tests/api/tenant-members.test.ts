/** Tenant memberships, and changing or deleting a tenant, through the real route handlers against a real PostgreSQL. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tenantMemberRoute from '../../app/api/v1/tenants/[tenantId]/members/[userId]/route';
import * as tenantMembersRoute from '../../app/api/v1/tenants/[tenantId]/members/route';
import * as tenantRoute from '../../app/api/v1/tenants/[tenantId]/route';
import { assertError, call, createUserWithToken, expectStatus, insertPipeline, useApiWorld, VALID_KDL } from './helpers';

const api = useApiWorld();
const prisma = () => api.database.prisma;

const listMembers = (token: string, tenantId: string) => call(tenantMembersRoute.GET, 'GET', '/', { token, params: { tenantId } });
const setMember = (token: string, tenantId: string, userId: string, role: string) =>
  call(tenantMemberRoute.PUT, 'PUT', '/', { token, params: { tenantId, userId }, body: { role } });
const removeMember = (token: string, tenantId: string, userId: string) =>
  call(tenantMemberRoute.DELETE, 'DELETE', '/', { token, params: { tenantId, userId } });
const getTenant = (token: string, tenantId: string) => call(tenantRoute.GET, 'GET', '/', { token, params: { tenantId } });

describe('tenant members', () => {
  test('whoever sees the tenant lists its members; others get 404', async () => {
    const listed = await listMembers(api.world.viewerA.token, api.world.tenantA);
    expectStatus(listed, 200);
    const roles = Object.fromEntries((listed.body as { items: Array<{ userId: string; role: string }> }).items.map((m) => [m.userId, m.role]));
    assert.equal(roles[api.world.adminA.userId], 'admin');
    assert.equal(roles[api.world.memberA.userId], 'member');
    assert.equal(roles[api.world.viewerA.userId], 'viewer');
    assert.equal(roles[api.world.outsider.userId], undefined);
    assertError(await listMembers(api.world.outsider.token, api.world.tenantA), 404, 'not_found');
    assertError(await listMembers(api.world.otherOwner.token, api.world.tenantA), 404, 'not_found');
  });

  test('organization admins give members of the organization a role in a tenant, change and remove it (audited)', async () => {
    const admin = await createUserWithToken(prisma(), { organizationId: api.world.orgId, orgRole: 'admin' });
    const user = await createUserWithToken(prisma(), { organizationId: api.world.orgId, orgRole: 'member' });
    assertError(await getTenant(user.token, api.world.tenantB), 404, 'not_found');

    const set = await setMember(admin.token, api.world.tenantB, user.userId, 'viewer');
    expectStatus(set, 200);
    assert.equal((set.body as { role: string }).role, 'viewer');
    expectStatus(await getTenant(user.token, api.world.tenantB), 200);
    expectStatus(await setMember(admin.token, api.world.tenantB, user.userId, 'admin'), 200);
    expectStatus(await setMember(admin.token, api.world.tenantB, user.userId, 'admin'), 200);
    const changes = await prisma().auditLog.findMany({ where: { action: 'tenant_member.set', targetId: user.userId }, orderBy: { createdAt: 'asc' } });
    assert.deepEqual(
      changes.map((c) => [(c.details as { from: string | null }).from, (c.details as { to: string }).to, c.tenantId]),
      [
        [null, 'viewer', api.world.tenantB],
        ['viewer', 'admin', api.world.tenantB],
      ],
      'setting the same role again changes nothing',
    );

    expectStatus(await removeMember(admin.token, api.world.tenantB, user.userId), 204);
    assertError(await getTenant(user.token, api.world.tenantB), 404, 'not_found');
    assertError(await removeMember(admin.token, api.world.tenantB, user.userId), 404, 'not_found');
    assert.equal(
      await prisma().orgMembership.count({ where: { organizationId: api.world.orgId, userId: user.userId } }),
      1,
      'still a member of the organization',
    );
  });

  test('only members of the organization get tenant roles; tenant admins and viewers manage none', async () => {
    assertError(await setMember(api.world.owner.token, api.world.tenantA, api.world.otherOwner.userId, 'viewer'), 404, 'not_found');
    assertError(await setMember(api.world.adminA.token, api.world.tenantA, api.world.outsider.userId, 'viewer'), 403, 'forbidden');
    assertError(await setMember(api.world.viewerA.token, api.world.tenantA, api.world.outsider.userId, 'viewer'), 403, 'forbidden');
    assertError(await setMember(api.world.outsider.token, api.world.tenantA, api.world.outsider.userId, 'admin'), 404, 'not_found');
    assertError(await setMember(api.world.otherOwner.token, api.world.tenantA, api.world.otherOwner.userId, 'admin'), 404, 'not_found');
    assertError(await removeMember(api.world.adminA.token, api.world.tenantA, api.world.viewerA.userId), 403, 'forbidden');
    assertError(await setMember(api.world.owner.token, api.world.tenantA, api.world.viewerA.userId, 'owner'), 422, 'validation_failed');
  });
});

describe('tenants: update and delete', () => {
  test('organization owners and admins rename a tenant; a taken slug is 409; tenant admins may not', async () => {
    const tenant = await prisma().tenant.create({ data: { organizationId: api.world.orgId, slug: 'old', name: 'Old' } });
    const patch = (token: string, body: unknown, tenantId = tenant.id) => call(tenantRoute.PATCH, 'PATCH', '/', { token, params: { tenantId }, body });
    const updated = await patch(api.world.owner.token, { name: 'New', slug: 'new' });
    expectStatus(updated, 200);
    assert.deepEqual([(updated.body as { name: string }).name, (updated.body as { slug: string }).slug], ['New', 'new']);
    assert.equal(await prisma().auditLog.count({ where: { action: 'tenant.update', targetId: tenant.id, outcome: 'success' } }), 1);

    assertError(await patch(api.world.owner.token, { slug: 'a' }), 409, 'conflict');
    assertError(await patch(api.world.owner.token, {}), 422, 'validation_failed');
    assertError(await patch(api.world.adminA.token, { name: 'Mine' }, api.world.tenantA), 403, 'forbidden');
    assertError(await patch(api.world.outsider.token, { name: 'Mine' }, api.world.tenantA), 404, 'not_found');
    assertError(await patch(api.world.otherOwner.token, { name: 'Mine' }, api.world.tenantA), 404, 'not_found');
  });

  test('deleting a tenant waits for its runs to finish, then removes everything in it', async () => {
    const tenant = await prisma().tenant.create({ data: { organizationId: api.world.orgId, slug: 'doomed', name: 'Doomed' } });
    const pipelineId = await insertPipeline(prisma(), tenant.id, VALID_KDL);
    const run = await prisma().pipelineRun.create({ data: { pipelineId, number: 1, event: 'manual', plan: {}, status: 'running' } });
    const remove = (token: string, tenantId = tenant.id) => call(tenantRoute.DELETE, 'DELETE', '/', { token, params: { tenantId } });

    assertError(await remove(api.world.adminA.token, api.world.tenantA), 403, 'forbidden');
    const busy = assertError(await remove(api.world.owner.token), 409, 'tenant_busy');
    assert.deepEqual(busy.details, { activeRuns: 1 });

    await prisma().pipelineRun.update({ where: { id: run.id }, data: { status: 'succeeded' } });
    expectStatus(await remove(api.world.owner.token), 204);
    assert.equal(await prisma().pipeline.count({ where: { id: pipelineId } }), 0);
    assertError(await getTenant(api.world.owner.token, tenant.id), 404, 'not_found');
    const audit = await prisma().auditLog.findFirstOrThrow({ where: { action: 'tenant.delete', targetId: tenant.id } });
    assert.deepEqual(audit.details, { slug: 'doomed', name: 'Doomed' });
  });
});
