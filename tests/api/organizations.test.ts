/** Organizations and their members through the real route handlers, against a real PostgreSQL. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as memberRoute from '../../app/api/v1/organizations/[organizationId]/members/[userId]/route';
import * as membersRoute from '../../app/api/v1/organizations/[organizationId]/members/route';
import * as organizationRoute from '../../app/api/v1/organizations/[organizationId]/route';
import * as organizationsRoute from '../../app/api/v1/organizations/route';
import * as tenantRoute from '../../app/api/v1/tenants/[tenantId]/route';
import { createApiKey } from '../../lib/auth/api-keys';
import { assertError, call, createUserWithToken, expectStatus, useApiWorld, type SeededUser } from './helpers';

const api = useApiWorld();

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
interface OrganizationBody {
  id: string;
  slug: string;
  name: string;
  allowedEmailDomains: string[];
}
interface MemberBody {
  userId: string;
  email: string;
  role: string;
}

const prisma = () => api.database.prisma;
const orgMember = (options: Partial<Parameters<typeof createUserWithToken>[1]> = {}) =>
  createUserWithToken(prisma(), { organizationId: api.world.orgId, orgRole: 'member', ...options });

const getOrganization = (token: string, organizationId: string) => call(organizationRoute.GET, 'GET', '/', { token, params: { organizationId } });
const patchMember = (token: string, userId: string, role: string, organizationId = api.world.orgId) =>
  call(memberRoute.PATCH, 'PATCH', '/', { token, params: { organizationId, userId }, body: { role } });
const removeMember = (token: string, userId: string, organizationId = api.world.orgId) =>
  call(memberRoute.DELETE, 'DELETE', '/', { token, params: { organizationId, userId } });

/** A new organization whose sole owner is a new user; the token acts in it. */
async function newOrganization(name: string): Promise<{ organizationId: string; owner: SeededUser }> {
  const creator = await orgMember();
  const created = await call(organizationsRoute.POST, 'POST', '/', { token: creator.token, body: { name } });
  expectStatus(created, 201);
  const { organization, token } = created.body as { organization: OrganizationBody; token: string };
  const apiKey = await prisma().apiKey.findFirstOrThrow({ where: { organizationId: organization.id, userId: creator.userId } });
  return { organizationId: organization.id, owner: { userId: creator.userId, token, apiKeyId: apiKey.id } };
}

describe('organizations', () => {
  test('a user lists the organizations they belong to, with the role there and the one the token acts in', async () => {
    const user = await orgMember();
    await prisma().orgMembership.create({ data: { organizationId: api.world.otherOrgId, userId: user.userId, role: 'admin' } });
    const listed = await call(organizationsRoute.GET, 'GET', '/', { token: user.token });
    expectStatus(listed, 200);
    const items = (listed.body as Page<{ id: string; role: string; current: boolean }>).items;
    assert.deepEqual(
      items.map(({ id, role, current }) => ({ id, role, current })),
      [
        { id: api.world.otherOrgId, role: 'admin', current: false },
        { id: api.world.orgId, role: 'member', current: true },
      ],
    );
    const other = await call(organizationsRoute.GET, 'GET', '/', { token: api.world.otherOwner.token });
    assert.deepEqual(
      (other.body as Page<{ id: string }>).items.map((o) => o.id),
      [api.world.otherOrgId],
    );
  });

  test('any user creates an organization and owns it; the token that comes back acts in it (audited there)', async () => {
    const creator = api.world.memberA;
    const created = await call(organizationsRoute.POST, 'POST', '/', { token: creator.token, body: { name: 'Acme Corp' } });
    expectStatus(created, 201);
    const { organization, token } = created.body as { organization: OrganizationBody; token: string };
    assert.equal(organization.slug, 'acme-corp');
    assert.match(token, /^bk_/);
    const membership = await prisma().orgMembership.findUniqueOrThrow({
      where: { organizationId_userId: { organizationId: organization.id, userId: creator.userId } },
    });
    assert.equal(membership.role, 'owner');

    expectStatus(await getOrganization(token, organization.id), 200);
    // The creator's old token still acts in its own organization only.
    assertError(await getOrganization(creator.token, organization.id), 404, 'not_found');

    const audit = await prisma().auditLog.findFirstOrThrow({ where: { action: 'org.create', targetId: organization.id } });
    assert.equal(audit.organizationId, organization.id);
    assert.equal(audit.actorUserId, creator.userId);

    assertError(await call(organizationsRoute.POST, 'POST', '/', { token: creator.token, body: { name: 'Again', slug: 'acme-corp' } }), 409, 'conflict');
  });

  test('creating an organization needs a personal token with the admin scope, not restricted to a tenant', async () => {
    const reader = await orgMember({ scopes: ['read'] });
    assertError(await call(organizationsRoute.POST, 'POST', '/', { token: reader.token, body: { name: 'R' } }), 403, 'insufficient_scope');
    const restricted = await orgMember({ tenantRoles: { [api.world.tenantA]: 'admin' }, tenantRestriction: api.world.tenantA });
    assertError(await call(organizationsRoute.POST, 'POST', '/', { token: restricted.token, body: { name: 'T' } }), 403, 'forbidden');
    assert.equal(await prisma().organization.count({ where: { name: { in: ['R', 'T'] } } }), 0);
  });

  test('members read the organization; owners alone change it; another organization is 404', async () => {
    const got = await getOrganization(api.world.viewerA.token, api.world.orgId);
    expectStatus(got, 200);
    assert.deepEqual((got.body as OrganizationBody).allowedEmailDomains, []);
    assertError(await getOrganization(api.world.otherOwner.token, api.world.orgId), 404, 'not_found');

    const admin = await orgMember({ orgRole: 'admin' });
    const patch = (token: string, body: unknown, organizationId = api.world.orgId) =>
      call(organizationRoute.PATCH, 'PATCH', '/', { token, params: { organizationId }, body });
    assertError(await patch(admin.token, { name: 'Mine now' }), 403, 'forbidden');
    assertError(await patch(api.world.otherOwner.token, { name: 'Mine now' }), 404, 'not_found');
    assertError(await patch(api.world.owner.token, { allowedEmailDomains: ['not a domain'] }), 422, 'validation_failed');
    assertError(await patch(api.world.owner.token, {}), 422, 'validation_failed');

    const updated = await patch(api.world.owner.token, { name: 'Org 2', allowedEmailDomains: ['Example.COM', 'example.com', 'corp.example.org'] });
    expectStatus(updated, 200);
    assert.equal((updated.body as OrganizationBody).name, 'Org 2');
    assert.deepEqual((updated.body as OrganizationBody).allowedEmailDomains, ['corp.example.org', 'example.com']);
    const audit = await prisma().auditLog.findFirstOrThrow({ where: { action: 'org.update', outcome: 'success', targetId: api.world.orgId } });
    assert.equal(audit.actorUserId, api.world.owner.userId);
  });
});

describe('members', () => {
  test('members list the members with their roles; another organization is 404', async () => {
    const listed = await call(membersRoute.GET, 'GET', '/', { token: api.world.viewerA.token, params: { organizationId: api.world.orgId } });
    expectStatus(listed, 200);
    const items = (listed.body as Page<MemberBody>).items;
    assert.equal(items.find((m) => m.userId === api.world.owner.userId)?.role, 'owner');
    assert.equal(items.find((m) => m.userId === api.world.viewerA.userId)?.role, 'member');
    assert.ok(items.every((m) => m.userId !== api.world.otherOwner.userId));
    assertError(await call(membersRoute.GET, 'GET', '/', { token: api.world.otherOwner.token, params: { organizationId: api.world.orgId } }), 404, 'not_found');
  });

  test('admins change roles; only owners grant or take the owner role; members change none', async () => {
    const admin = await orgMember({ orgRole: 'admin' });
    const target = await orgMember();
    const promoted = await patchMember(admin.token, target.userId, 'admin');
    expectStatus(promoted, 200);
    assert.equal((promoted.body as MemberBody).role, 'admin');
    const audit = await prisma().auditLog.findFirstOrThrow({ where: { action: 'member.update', targetId: target.userId } });
    assert.deepEqual(audit.details, { email: (promoted.body as MemberBody).email, from: 'member', to: 'admin' });

    assertError(await patchMember(admin.token, target.userId, 'owner'), 403, 'forbidden');
    assertError(await patchMember(admin.token, admin.userId, 'owner'), 403, 'forbidden');
    expectStatus(await patchMember(api.world.owner.token, target.userId, 'owner'), 200);
    assertError(await patchMember(admin.token, target.userId, 'member'), 403, 'forbidden');
    assertError(await patchMember(api.world.viewerA.token, admin.userId, 'member'), 403, 'forbidden');
    assertError(await patchMember(api.world.owner.token, api.world.otherOwner.userId, 'member'), 404, 'not_found');
    assertError(await patchMember(api.world.otherOwner.token, target.userId, 'member'), 404, 'not_found');
    // Back to a plain member, so the world keeps one owner for the other tests.
    expectStatus(await patchMember(api.world.owner.token, target.userId, 'member'), 200);
  });

  test('the last owner can be neither demoted nor removed, nor leave; with a second owner each works', async () => {
    const { organizationId, owner } = await newOrganization('Solo');
    const demoted = assertError(await patchMember(owner.token, owner.userId, 'admin', organizationId), 409, 'last_owner');
    assert.match(demoted.message, /last owner.*make another member owner first/);
    const left = assertError(await removeMember(owner.token, owner.userId, organizationId), 409, 'last_owner');
    assert.match(left.message, /you are the last owner/);

    const second = await createUserWithToken(prisma(), { organizationId, orgRole: 'owner' });
    expectStatus(await patchMember(owner.token, owner.userId, 'admin', organizationId), 200);
    assertError(await removeMember(second.token, second.userId, organizationId), 409, 'last_owner');
    expectStatus(await removeMember(second.token, owner.userId, organizationId), 204);
    assert.deepEqual(
      (await prisma().orgMembership.findMany({ where: { organizationId } })).map((m) => [m.userId, m.role]),
      [[second.userId, 'owner']],
    );
  });

  test('two owners demoting each other at once leave one owner', async () => {
    const { organizationId, owner } = await newOrganization('Duel');
    const second = await createUserWithToken(prisma(), { organizationId, orgRole: 'owner' });
    const results = await Promise.all([
      patchMember(owner.token, second.userId, 'admin', organizationId),
      patchMember(second.token, owner.userId, 'admin', organizationId),
    ]);
    assert.deepEqual(results.map((r) => r.status).sort(), [200, results.some((r) => r.status === 403) ? 403 : 409]);
    assert.equal(await prisma().orgMembership.count({ where: { organizationId, role: 'owner' } }), 1);
  });

  test("removing a member ends their access at once: the organization's tokens are revoked, tenant roles gone", async () => {
    const admin = await orgMember({ orgRole: 'admin' });
    const removed = await orgMember({ tenantRoles: { [api.world.tenantA]: 'admin' } });
    await prisma().orgMembership.create({ data: { organizationId: api.world.otherOrgId, userId: removed.userId, role: 'admin' } });
    const elsewhere = await createApiKey(prisma(), { organizationId: api.world.otherOrgId, userId: removed.userId, name: 'other', scopes: ['read'] });
    const readTenant = (token: string, tenantId: string) => call(tenantRoute.GET, 'GET', '/', { token, params: { tenantId } });
    expectStatus(await readTenant(removed.token, api.world.tenantA), 200);

    expectStatus(await removeMember(admin.token, removed.userId), 204);
    const refused = assertError(await readTenant(removed.token, api.world.tenantA), 401, 'invalid_token');
    assert.match(refused.message, /revoked/);
    assert.equal(await prisma().tenantMembership.count({ where: { userId: removed.userId } }), 0);
    // Their token of another organization is that organization's business.
    expectStatus(await readTenant(elsewhere.token, api.world.otherTenant), 200);

    const audit = await prisma().auditLog.findFirstOrThrow({ where: { action: 'member.remove', targetId: removed.userId } });
    assert.equal(audit.actorUserId, admin.userId);
    assert.deepEqual(audit.details, {
      email: (await prisma().user.findUniqueOrThrow({ where: { id: removed.userId } })).email,
      role: 'member',
      tenantMemberships: 1,
      revokedTokens: 1,
      endedSessions: 0,
    });
  });

  test('members leave; admins remove members but not owners; unknown members are 404', async () => {
    const leaver = await orgMember();
    expectStatus(await removeMember(leaver.token, leaver.userId), 204);
    assert.equal(await prisma().auditLog.count({ where: { action: 'member.leave', targetId: leaver.userId } }), 1);

    const admin = await orgMember({ orgRole: 'admin' });
    assertError(await removeMember(admin.token, api.world.owner.userId), 403, 'forbidden');
    assertError(await removeMember(api.world.memberA.token, admin.userId), 403, 'forbidden');
    assertError(await removeMember(admin.token, leaver.userId), 404, 'not_found');
    assertError(await removeMember(api.world.otherOwner.token, admin.userId), 404, 'not_found');

    const reader = await orgMember({ scopes: ['read'] });
    assertError(await removeMember(reader.token, reader.userId), 403, 'insufficient_scope');
  });
});
