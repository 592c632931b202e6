/**
 * Who may come in through a sign-in provider (lib/auth/admission.ts), on a real PostgreSQL: unknown emails
 * are refused unless a pending invitation or an organization's allowed domain admits them; invitations are
 * accepted at sign-in; disabled users and users left without an organization are refused; two concurrent
 * first sign-ins of one email make one user.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { admitUser } from '../../lib/auth/admission';
import { generateInvitationToken } from '../../lib/auth/invitations';
import { hashToken } from '../../lib/auth/tokens';
import type { OrgRole, TenantRole } from '../../lib/generated/prisma/enums';
import { seedWorld, type World } from '../api/helpers';
import { createTestDatabase, type TestDatabase } from '../support/db';

let db: TestDatabase;
let world: World;
const ORIGIN = { ip: '198.51.100.4', userAgent: 'admission-test/1.0' };
const DAY = 24 * 60 * 60 * 1000;

before(async () => {
  db = await createTestDatabase();
  world = await seedWorld(db.prisma);
});

after(() => db?.drop());

let counter = 0;
/** A fresh email nobody has used in this file, lowercase. */
const freshEmail = (domain = 'example.test') => `person-${process.pid}-${++counter}@${domain}`;

async function invite(
  email: string,
  options: { organizationId?: string; role?: OrgRole; tenantRoles?: Record<string, TenantRole>; expiresAt?: Date; revokedAt?: Date } = {},
) {
  return db.prisma.invitation.create({
    data: {
      organizationId: options.organizationId ?? world.orgId,
      email,
      role: options.role ?? 'member',
      tenantRoles: options.tenantRoles ?? {},
      tokenHash: hashToken(generateInvitationToken()),
      expiresAt: options.expiresAt ?? new Date(Date.now() + 7 * DAY),
      revokedAt: options.revokedAt ?? null,
      createdById: world.owner.userId,
    },
  });
}

/** Counts of what an admission may create, to compare before and after a refusal. */
async function footprint() {
  const [users, memberships, tenantMemberships, audit, acceptedInvitations] = await Promise.all([
    db.prisma.user.count(),
    db.prisma.orgMembership.count(),
    db.prisma.tenantMembership.count(),
    db.prisma.auditLog.count(),
    db.prisma.invitation.count({ where: { acceptedAt: { not: null } } }),
  ]);
  return { users, memberships, tenantMemberships, audit, acceptedInvitations };
}

describe('unknown emails', () => {
  test('without an invitation or an allowed domain: `not_invited`, and nothing is created', async () => {
    const email = freshEmail();
    const before = await footprint();
    assert.deepEqual(await admitUser(db.prisma, { email, name: 'Nobody', origin: ORIGIN }), { refused: 'not_invited' });
    assert.equal(await db.prisma.user.findUnique({ where: { email } }), null);
    assert.deepEqual(await footprint(), before);
  });

  test('an invitation for another email admits nobody', async () => {
    const invited = freshEmail();
    await invite(invited);
    const other = freshEmail();
    assert.deepEqual(await admitUser(db.prisma, { email: other, name: null, origin: ORIGIN }), { refused: 'not_invited' });
    assert.equal(await db.prisma.user.findUnique({ where: { email: other } }), null);
  });
});

describe('pending invitations', () => {
  test('admit the email: the user is created, the invitation accepted, the membership has its roles, an invitation.accept row names the user', async () => {
    const email = freshEmail();
    const invitation = await invite(email, { role: 'admin', tenantRoles: { [world.tenantA]: 'viewer', [world.tenantB]: 'admin' } });
    const now = new Date();
    const admission = await admitUser(db.prisma, { email: `  ${email.toUpperCase()} `, name: 'Ada Invited', origin: ORIGIN }, now);
    assert.ok('userId' in admission, JSON.stringify(admission));

    const user = await db.prisma.user.findUniqueOrThrow({ where: { id: admission.userId } });
    assert.deepEqual([user.email, user.name, user.disabledAt, user.passwordHash], [email, 'Ada Invited', null, null]);

    const accepted = await db.prisma.invitation.findUniqueOrThrow({ where: { id: invitation.id } });
    assert.deepEqual(accepted.acceptedAt, now);
    assert.equal(accepted.acceptedById, user.id);

    const membership = await db.prisma.orgMembership.findUniqueOrThrow({ where: { organizationId_userId: { organizationId: world.orgId, userId: user.id } } });
    assert.equal(membership.role, 'admin');
    const tenantRoles = await db.prisma.tenantMembership.findMany({ where: { userId: user.id }, orderBy: { tenantId: 'asc' } });
    assert.deepEqual(Object.fromEntries(tenantRoles.map((m) => [m.tenantId, m.role])), { [world.tenantA]: 'viewer', [world.tenantB]: 'admin' });

    const audit = await db.prisma.auditLog.findMany({ where: { action: 'invitation.accept', targetId: invitation.id } });
    assert.equal(audit.length, 1);
    const row = audit[0]!;
    assert.deepEqual(
      [row.actorUserId, row.organizationId, row.targetType, row.outcome, row.ip, row.userAgent],
      [user.id, world.orgId, 'invitation', 'success', ORIGIN.ip, ORIGIN.userAgent],
    );
    assert.deepEqual(row.details, { email, role: 'admin', tenantRoles: { [world.tenantA]: 'viewer', [world.tenantB]: 'admin' }, via: 'sign-in' });

    // Signing in again: the same user, nothing accepted or added twice.
    const before = await footprint();
    assert.deepEqual(await admitUser(db.prisma, { email, name: 'Ada Invited', origin: ORIGIN }), { userId: user.id });
    assert.deepEqual(await footprint(), before);
  });

  test('invitations of two organizations are both accepted at the first sign-in', async () => {
    const email = freshEmail();
    const ours = await invite(email, { role: 'member' });
    const theirs = await invite(email, { organizationId: world.otherOrgId, role: 'owner' });
    const admission = await admitUser(db.prisma, { email, name: null, origin: null });
    assert.ok('userId' in admission);
    const memberships = await db.prisma.orgMembership.findMany({ where: { userId: admission.userId } });
    assert.deepEqual(Object.fromEntries(memberships.map((m) => [m.organizationId, m.role])), { [world.orgId]: 'member', [world.otherOrgId]: 'owner' });
    for (const id of [ours.id, theirs.id]) assert.equal((await db.prisma.invitation.findUniqueOrThrow({ where: { id } })).acceptedById, admission.userId);
  });

  test('an expired invitation admits nobody and stays unaccepted', async () => {
    const email = freshEmail();
    const invitation = await invite(email, { expiresAt: new Date(Date.now() - 1000) });
    const before = await footprint();
    assert.deepEqual(await admitUser(db.prisma, { email, name: null, origin: ORIGIN }), { refused: 'not_invited' });
    assert.deepEqual(await footprint(), before);
    const row = await db.prisma.invitation.findUniqueOrThrow({ where: { id: invitation.id } });
    assert.deepEqual([row.acceptedAt, row.acceptedById], [null, null]);
  });

  test('an invitation expiring exactly at sign-in admits nobody', async () => {
    const email = freshEmail();
    const expiresAt = new Date(Date.now() + DAY);
    await invite(email, { expiresAt });
    assert.deepEqual(await admitUser(db.prisma, { email, name: null, origin: null }, expiresAt), { refused: 'not_invited' });
    assert.equal(await db.prisma.user.findUnique({ where: { email } }), null);
  });

  test('a revoked invitation admits nobody and stays unaccepted', async () => {
    const email = freshEmail();
    const invitation = await invite(email, { revokedAt: new Date() });
    const before = await footprint();
    assert.deepEqual(await admitUser(db.prisma, { email, name: null, origin: ORIGIN }), { refused: 'not_invited' });
    assert.deepEqual(await footprint(), before);
    assert.equal((await db.prisma.invitation.findUniqueOrThrow({ where: { id: invitation.id } })).acceptedAt, null);
  });
});

describe('allowed email domains', () => {
  test("an organization's allowed domain admits its users as `member`, with a member.join row; emails compared without case", async () => {
    const domain = `corp-${process.pid}.test`;
    const org = await db.prisma.organization.create({ data: { slug: `corp-${process.pid}`, name: 'Corp', allowedEmailDomains: [domain] } });
    const email = freshEmail(domain);
    const admission = await admitUser(db.prisma, { email: `${email.split('@')[0]!.toUpperCase()}@${domain.toUpperCase()}`, name: 'Carla', origin: ORIGIN });
    assert.ok('userId' in admission, JSON.stringify(admission));

    const user = await db.prisma.user.findUniqueOrThrow({ where: { id: admission.userId } });
    assert.equal(user.email, email, 'stored lowercase');
    const memberships = await db.prisma.orgMembership.findMany({ where: { userId: user.id } });
    assert.deepEqual(
      memberships.map((m) => [m.organizationId, m.role]),
      [[org.id, 'member']],
    );
    assert.equal(await db.prisma.tenantMembership.count({ where: { userId: user.id } }), 0);

    const joins = await db.prisma.auditLog.findMany({ where: { action: 'member.join', targetId: user.id } });
    assert.equal(joins.length, 1);
    assert.deepEqual([joins[0]!.actorUserId, joins[0]!.organizationId, joins[0]!.targetType, joins[0]!.ip], [user.id, org.id, 'member', ORIGIN.ip]);
    assert.deepEqual(joins[0]!.details, { email, role: 'member', via: 'allowed email domain' });

    // The next sign-in joins nothing again.
    assert.deepEqual(await admitUser(db.prisma, { email, name: 'Carla', origin: ORIGIN }), { userId: user.id });
    assert.equal(await db.prisma.auditLog.count({ where: { action: 'member.join', targetId: user.id } }), 1);
    assert.equal(await db.prisma.orgMembership.count({ where: { userId: user.id } }), 1);
  });

  test('a subdomain or a look-alike domain is not admitted', async () => {
    const domain = `exact-${process.pid}.test`;
    await db.prisma.organization.create({ data: { slug: `exact-${process.pid}`, name: 'Exact', allowedEmailDomains: [domain] } });
    for (const email of [freshEmail(`sub.${domain}`), freshEmail(`not${domain}`)]) {
      assert.deepEqual(await admitUser(db.prisma, { email, name: null, origin: null }), { refused: 'not_invited' }, email);
      assert.equal(await db.prisma.user.findUnique({ where: { email } }), null);
    }
  });
});

describe('existing users', () => {
  test('a disabled user is refused `disabled`, even when invited; the invitation stays pending', async () => {
    const email = freshEmail();
    const user = await db.prisma.user.create({ data: { email, disabledAt: new Date() } });
    await db.prisma.orgMembership.create({ data: { organizationId: world.orgId, userId: user.id, role: 'member' } });
    const invitation = await invite(email, { organizationId: world.otherOrgId });
    const before = await footprint();
    assert.deepEqual(await admitUser(db.prisma, { email: email.toUpperCase(), name: null, origin: ORIGIN }), { refused: 'disabled' });
    assert.deepEqual(await footprint(), before);
    assert.equal((await db.prisma.invitation.findUniqueOrThrow({ where: { id: invitation.id } })).acceptedAt, null);
  });

  test('an existing member is admitted as themself', async () => {
    const admission = await admitUser(db.prisma, {
      email: (await db.prisma.user.findUniqueOrThrow({ where: { id: world.viewerA.userId } })).email,
      name: null,
      origin: null,
    });
    assert.deepEqual(admission, { userId: world.viewerA.userId });
  });

  test('an existing user with no organization left is refused `no_organization`', async () => {
    const email = freshEmail();
    const user = await db.prisma.user.create({ data: { email } });
    await db.prisma.orgMembership.create({ data: { organizationId: world.orgId, userId: user.id, role: 'member' } });
    await db.prisma.orgMembership.delete({ where: { organizationId_userId: { organizationId: world.orgId, userId: user.id } } });
    const before = await footprint();
    assert.deepEqual(await admitUser(db.prisma, { email, name: null, origin: ORIGIN }), { refused: 'no_organization' });
    assert.deepEqual(await footprint(), before);
  });

  test('an existing user without organizations is admitted by a new invitation', async () => {
    const email = freshEmail();
    const user = await db.prisma.user.create({ data: { email } });
    const invitation = await invite(email, { role: 'member' });
    assert.deepEqual(await admitUser(db.prisma, { email, name: null, origin: null }), { userId: user.id });
    assert.equal((await db.prisma.invitation.findUniqueOrThrow({ where: { id: invitation.id } })).acceptedById, user.id);
  });
});

describe('concurrency', () => {
  /** Two first sign-ins of one invited email at once (two tabs, a double-clicked callback), `rounds` times. */
  async function racedAdmissions(rounds: number, check: (outcome: { results: PromiseSettledResult<unknown>[]; userId: string; round: number }) => void) {
    for (let round = 0; round < rounds; round++) {
      const email = freshEmail();
      const invitation = await invite(email, { tenantRoles: { [world.tenantA]: 'member' } });
      const results = await Promise.allSettled([
        admitUser(db.prisma, { email, name: 'Twin', origin: ORIGIN }),
        admitUser(db.prisma, { email: email.toUpperCase(), name: 'Twin', origin: ORIGIN }),
      ]);

      const users = await db.prisma.user.findMany({ where: { email } });
      assert.equal(users.length, 1, 'one user');
      const userId = users[0]!.id;
      assert.equal(await db.prisma.orgMembership.count({ where: { userId } }), 1, 'one membership');
      assert.equal(await db.prisma.tenantMembership.count({ where: { userId } }), 1);
      assert.equal((await db.prisma.invitation.findUniqueOrThrow({ where: { id: invitation.id } })).acceptedById, userId);
      assert.equal(await db.prisma.auditLog.count({ where: { action: 'invitation.accept', targetId: invitation.id } }), 1, 'accepted once');
      check({ results, userId, round });
    }
  }

  test('two concurrent admissions of one invited email create one user and one membership', async () => {
    await racedAdmissions(5, ({ results, userId }) => {
      const admitted = results.filter((result) => result.status === 'fulfilled');
      assert.ok(admitted.length >= 1, 'at least one sign-in gets in');
      for (const result of admitted) assert.deepEqual(result.value, { userId });
    });
  });

  test('both concurrent sign-ins of the same invited person are let in, as that one user', async () => {
    await racedAdmissions(5, ({ results, userId, round }) => {
      for (const result of results) {
        assert.equal(result.status, 'fulfilled', `round ${round}: a concurrent sign-in failed: ${result.status === 'rejected' ? String(result.reason) : ''}`);
        assert.deepEqual(result.value, { userId });
      }
    });
  });
});
