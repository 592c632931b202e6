/**
 * Invitations by link through the real route handlers, against a real PostgreSQL: the token is shown once
 * and stored hashed, names one email, expires, is single use and revocable. Also the lookups the sign-in
 * work makes for a first sign-in (lib/auth/invitations.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as acceptRoute from '../../app/api/v1/invitations/[token]/accept/route';
import * as invitationRoute from '../../app/api/v1/organizations/[organizationId]/invitations/[invitationId]/route';
import * as invitationsRoute from '../../app/api/v1/organizations/[organizationId]/invitations/route';
import * as tenantRoute from '../../app/api/v1/tenants/[tenantId]/route';
import { organizationsAdmittingEmail, pendingInvitationsFor } from '../../lib/auth/invitations';
import { hashToken } from '../../lib/auth/tokens';
import { assertError, call, createUserWithToken, expectStatus, useApiWorld, type SeededUser } from './helpers';

const api = useApiWorld();
const prisma = () => api.database.prisma;

interface InvitationBody {
  id: string;
  email: string;
  role: string;
  tenantRoles: Record<string, string>;
  status: string;
  token?: string;
}

let emails = 0;
/** A user of the other organization (so with a token to accept with) and a fresh email. */
async function invitee(): Promise<SeededUser & { email: string }> {
  const user = await createUserWithToken(prisma(), { organizationId: api.world.otherOrgId, orgRole: 'member' });
  const email = `invitee-${process.pid}-${++emails}@example.test`;
  await prisma().user.update({ where: { id: user.userId }, data: { email } });
  return { ...user, email };
}

const invite = (token: string, body: Record<string, unknown>, organizationId = api.world.orgId) =>
  call(invitationsRoute.POST, 'POST', '/', { token, params: { organizationId }, body });
const accept = (token: string, invitationToken: string) => call(acceptRoute.POST, 'POST', '/', { token, params: { token: invitationToken } });
const revoke = (token: string, invitationId: string) =>
  call(invitationRoute.DELETE, 'DELETE', '/', { token, params: { organizationId: api.world.orgId, invitationId } });

async function invited(body: Record<string, unknown>): Promise<InvitationBody & { token: string }> {
  const created = await invite(api.world.owner.token, body);
  expectStatus(created, 201);
  return created.body as InvitationBody & { token: string };
}

describe('invitations', () => {
  test('an admin invites by email; the token is shown once, stored hashed; the invitee joins with the roles', async () => {
    const admin = await createUserWithToken(prisma(), { organizationId: api.world.orgId, orgRole: 'admin' });
    const user = await invitee();
    const created = await invite(admin.token, { email: user.email.toUpperCase(), tenantRoles: { [api.world.tenantA]: 'viewer' } });
    expectStatus(created, 201);
    const invitation = created.body as InvitationBody & { token: string };
    assert.equal(invitation.email, user.email);
    assert.equal(invitation.role, 'member');
    assert.equal(invitation.status, 'pending');
    assert.match(invitation.token, /^bki_[A-Za-z0-9_-]{43}$/);
    const row = await prisma().invitation.findUniqueOrThrow({ where: { id: invitation.id } });
    assert.equal(row.tokenHash, hashToken(invitation.token));
    assert.ok(!JSON.stringify(row).includes(invitation.token));
    assert.ok(Math.abs(row.expiresAt.getTime() - Date.now() - 7 * 24 * 3600_000) < 60_000, 'expires in 7 days by default');

    const listed = await call(invitationsRoute.GET, 'GET', '/', { token: admin.token, params: { organizationId: api.world.orgId } });
    expectStatus(listed, 200);
    assert.ok(!listed.text.includes(invitation.token), 'lists never carry tokens');
    assert.equal((listed.body as { items: InvitationBody[] }).items.find((i) => i.id === invitation.id)?.status, 'pending');

    const accepted = await accept(user.token, invitation.token);
    expectStatus(accepted, 200);
    const joined = accepted.body as { organization: { id: string }; role: string; tenantRoles: Record<string, string>; token: string };
    assert.equal(joined.organization.id, api.world.orgId);
    assert.equal(joined.role, 'member');
    assert.deepEqual(joined.tenantRoles, { [api.world.tenantA]: 'viewer' });
    // The token that comes back acts in the organization joined, with the roles of the invitation.
    expectStatus(await call(tenantRoute.GET, 'GET', '/', { token: joined.token, params: { tenantId: api.world.tenantA } }), 200);
    assertError(await call(tenantRoute.GET, 'GET', '/', { token: joined.token, params: { tenantId: api.world.tenantB } }), 404, 'not_found');

    const audit = await prisma().auditLog.findFirstOrThrow({ where: { action: 'invitation.accept', targetId: invitation.id } });
    assert.equal(audit.organizationId, api.world.orgId);
    assert.equal(audit.actorUserId, user.userId);
    assert.equal(await prisma().auditLog.count({ where: { action: 'invitation.create', targetId: invitation.id, actorUserId: admin.userId } }), 1);
    assert.ok(!JSON.stringify(await prisma().auditLog.findMany()).includes(invitation.token), 'no audit row holds a token');
  });

  test('single use; someone else, a revoked or an expired invitation gets nothing', async () => {
    const user = await invitee();
    const used = await invited({ email: user.email });
    assertError(await accept(api.world.otherOwner.token, used.token), 404, 'not_found');
    expectStatus(await accept(user.token, used.token), 200);
    assertError(await accept(user.token, used.token), 410, 'used');
    assertError(await revoke(api.world.owner.token, used.id), 409, 'invitation_accepted');

    const second = await invitee();
    const revoked = await invited({ email: second.email });
    expectStatus(await revoke(api.world.owner.token, revoked.id), 204);
    expectStatus(await revoke(api.world.owner.token, revoked.id), 204);
    assert.equal(await prisma().auditLog.count({ where: { action: 'invitation.revoke', targetId: revoked.id } }), 1, 'revoking twice changes nothing');
    assertError(await accept(second.token, revoked.token), 410, 'revoked');

    const third = await invitee();
    const expired = await invited({ email: third.email, expiresInDays: 1 });
    await prisma().invitation.update({ where: { id: expired.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    assertError(await accept(third.token, expired.token), 410, 'expired');
    assertError(await accept(third.token, 'bki_' + 'x'.repeat(43)), 404, 'not_found');
    assertError(await accept(third.token, 'not-a-token'), 404, 'not_found');
    assert.equal(await prisma().orgMembership.count({ where: { organizationId: api.world.orgId, userId: { in: [second.userId, third.userId] } } }), 0);
  });

  test('two accepts of one link at once: exactly one joins', async () => {
    const user = await invitee();
    const { token } = await invited({ email: user.email });
    const results = await Promise.all([accept(user.token, token), accept(user.token, token)]);
    assert.deepEqual(
      results.map((r) => r.status).filter((s) => s === 200),
      [200],
    );
    assert.equal(await prisma().orgMembership.count({ where: { organizationId: api.world.orgId, userId: user.userId } }), 1);
  });

  test('only owners invite owners; members, pending emails and tenants of other organizations are refused', async () => {
    const admin = await createUserWithToken(prisma(), { organizationId: api.world.orgId, orgRole: 'admin' });
    assertError(await invite(admin.token, { email: 'boss@example.test', role: 'owner' }), 403, 'forbidden');
    expectStatus(await invite(api.world.owner.token, { email: 'boss@example.test', role: 'owner' }), 201);
    const pending = assertError(await invite(admin.token, { email: 'BOSS@example.test' }), 409, 'invitation_pending');
    assert.ok((pending.details as { invitationId?: string }).invitationId);

    const member = await prisma().user.findUniqueOrThrow({ where: { id: api.world.memberA.userId } });
    assertError(await invite(admin.token, { email: member.email }), 409, 'already_member');
    assertError(await invite(admin.token, { email: 'x@example.test', tenantRoles: { [api.world.otherTenant]: 'admin' } }), 422, 'unknown_tenant');
    assertError(await invite(admin.token, { email: 'x@example.test', expiresInDays: 31 }), 422, 'validation_failed');
    assertError(await invite(api.world.adminA.token, { email: 'x@example.test' }), 403, 'forbidden');
    assertError(await invite(api.world.otherOwner.token, { email: 'x@example.test' }), 404, 'not_found');
  });

  test('accepting needs a personal token with the admin scope; an existing member is told so', async () => {
    const user = await invitee();
    const { token } = await invited({ email: user.email });
    const reader = await createUserWithToken(prisma(), { organizationId: api.world.otherOrgId, orgRole: 'member', scopes: ['read'] });
    await prisma().user.update({ where: { id: user.userId }, data: { email: `moved-${user.email}` } });
    await prisma().user.update({ where: { id: reader.userId }, data: { email: user.email } });
    assertError(await accept(reader.token, token), 403, 'insufficient_scope');

    const member = await prisma().user.findUniqueOrThrow({ where: { id: api.world.viewerA.userId } });
    await prisma().invitation.create({
      data: { organizationId: api.world.orgId, email: member.email, tokenHash: hashToken('bki_' + 'm'.repeat(43)), expiresAt: new Date(Date.now() + 60_000) },
    });
    assertError(await accept(api.world.viewerA.token, 'bki_' + 'm'.repeat(43)), 409, 'already_member');
  });
});

describe('first sign-in lookups (for the sign-in work)', () => {
  test('pending invitations of an email, and the organizations that admit its domain', async () => {
    const email = `newcomer-${process.pid}@Corp.Example.test`;
    await invited({ email });
    assert.deepEqual(
      (await pendingInvitationsFor(prisma(), email.toUpperCase())).map((i) => i.organizationId),
      [api.world.orgId],
    );
    assert.deepEqual(await pendingInvitationsFor(prisma(), 'nobody@example.test'), []);

    assert.deepEqual(await organizationsAdmittingEmail(prisma(), email), []);
    await prisma().organization.update({ where: { id: api.world.otherOrgId }, data: { allowedEmailDomains: ['corp.example.test'] } });
    assert.deepEqual(
      (await organizationsAdmittingEmail(prisma(), email)).map((o) => o.id),
      [api.world.otherOrgId],
    );
  });
});
