/**
 * Browser sessions (lib/auth/sessions.ts) on a real PostgreSQL: the actor of a live session, every way a
 * session ends (sign-out, expiry, a disabled user, removal from the organization through the members
 * service), switching organization, ending a user's sessions, and a user without organizations.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { removeMember } from '../../lib/api/services/members';
import { authenticateToken } from '../../lib/auth/authenticate';
import { SCOPES } from '../../lib/auth/authorize';
import { AuthError } from '../../lib/auth/errors';
import { revokeSession, revokeUserSessions, SESSION_MAX_AGE_SECONDS, sessionActor, startSession, switchOrganization } from '../../lib/auth/sessions';
import { createUserWithToken, seedWorld, type World } from '../api/helpers';
import { createTestDatabase, type TestDatabase } from '../support/db';

let db: TestDatabase;
let world: World;

before(async () => {
  db = await createTestDatabase();
  world = await seedWorld(db.prisma);
});

after(() => db?.drop());

/** Opens a session for the user and returns its id (the user must belong to an organization). */
async function open(userId: string, now?: Date): Promise<string> {
  const started = await startSession(db.prisma, { userId, provider: 'password', origin: null }, now);
  assert.ok(started, 'the user belongs to an organization: a session opens');
  return started.sessionId;
}

/** A fresh user, member of the world's organization (and a member of tenant A), optionally of the other organization too. */
async function newMember(options: { alsoOther?: boolean } = {}): Promise<string> {
  const user = await createUserWithToken(db.prisma, { organizationId: world.orgId, orgRole: 'member', tenantRoles: { [world.tenantA]: 'member' } });
  // Joined later (explicitly, so that "oldest membership first" cannot tie on the millisecond).
  if (options.alsoOther) {
    await db.prisma.orgMembership.create({
      data: { organizationId: world.otherOrgId, userId: user.userId, role: 'admin', createdAt: new Date(Date.now() + 60_000) },
    });
  }
  return user.userId;
}

/** Asserts that sessionActor refuses the session with an AuthError telling to sign in again, matching `why`. */
async function assertEnded(sessionId: string, why: RegExp, now?: Date): Promise<AuthError> {
  let caught: unknown = null;
  try {
    await sessionActor(db.prisma, sessionId, now);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof AuthError, `expected an AuthError, got ${String(caught)}`);
  assert.equal(caught.code, 'invalid_token');
  assert.match(caught.message, /sign in again/);
  assert.match(caught.message, why);
  return caught;
}

describe('sessionActor', () => {
  test("a live session acts with the user's roles in the session's organization and every scope", async () => {
    const sessionId = await open(world.adminA.userId);
    const actor = await sessionActor(db.prisma, sessionId);
    assert.deepEqual(actor, {
      kind: 'session',
      userId: world.adminA.userId,
      apiKeyId: null,
      sessionId,
      organizationId: world.orgId,
      orgRole: 'member',
      tenantRoles: { [world.tenantA]: 'admin' },
      tenantRestriction: null,
      scopes: [...SCOPES],
    });

    // Roles are read on every call: a promotion applies at once to the same session.
    await db.prisma.orgMembership.update({
      where: { organizationId_userId: { organizationId: world.orgId, userId: world.adminA.userId } },
      data: { role: 'admin' },
    });
    try {
      assert.equal((await sessionActor(db.prisma, sessionId)).orgRole, 'admin');
    } finally {
      await db.prisma.orgMembership.update({
        where: { organizationId_userId: { organizationId: world.orgId, userId: world.adminA.userId } },
        data: { role: 'member' },
      });
    }
  });

  test('an unknown session id is refused', async () => {
    await assertEnded('no-such-session', /signed out/);
  });

  test('a signed-out (revoked) session is refused; signing out again changes nothing', async () => {
    const sessionId = await open(world.memberA.userId);
    await sessionActor(db.prisma, sessionId);
    await revokeSession(db.prisma, sessionId, new Date('2030-01-01T00:00:00Z'));
    await assertEnded(sessionId, /signed out/);
    const first = await db.prisma.session.findUniqueOrThrow({ where: { id: sessionId } });
    assert.deepEqual(first.revokedAt, new Date('2030-01-01T00:00:00Z'));
    await revokeSession(db.prisma, sessionId, new Date('2031-01-01T00:00:00Z'));
    const second = await db.prisma.session.findUniqueOrThrow({ where: { id: sessionId } });
    assert.deepEqual(second.revokedAt, first.revokedAt, 'the first sign-out time is kept');
  });

  test('an expired session is refused, from its expiry on', async () => {
    const startedAt = new Date(Date.now() - SESSION_MAX_AGE_SECONDS * 1000 - 60_000);
    const sessionId = await open(world.memberA.userId, startedAt);
    const row = await db.prisma.session.findUniqueOrThrow({ where: { id: sessionId } });
    assert.equal(row.expiresAt.getTime(), startedAt.getTime() + SESSION_MAX_AGE_SECONDS * 1000, 'a session lasts SESSION_MAX_AGE_SECONDS');
    assert.equal(row.revokedAt, null);
    await assertEnded(sessionId, /expired/);

    // At the boundary: live one millisecond before expiresAt, ended at expiresAt.
    const live = await open(world.memberA.userId);
    const { expiresAt } = await db.prisma.session.findUniqueOrThrow({ where: { id: live } });
    assert.equal((await sessionActor(db.prisma, live, new Date(expiresAt.getTime() - 1))).sessionId, live);
    await assertEnded(live, /expired/, expiresAt);
  });

  test("a disabled user's session is refused, and works again once the user is enabled", async () => {
    const userId = await newMember();
    const sessionId = await open(userId);
    await sessionActor(db.prisma, sessionId);
    await db.prisma.user.update({ where: { id: userId }, data: { disabledAt: new Date() } });
    await assertEnded(sessionId, /disabled/);
    await db.prisma.user.update({ where: { id: userId }, data: { disabledAt: null } });
    assert.equal((await sessionActor(db.prisma, sessionId)).userId, userId, 'only the disabledAt check refused it');
  });

  test('a session of a user whose membership is gone (row deleted directly) is refused', async () => {
    const userId = await newMember();
    const sessionId = await open(userId);
    await db.prisma.orgMembership.delete({ where: { organizationId_userId: { organizationId: world.orgId, userId } } });
    await assertEnded(sessionId, /no longer a member/);
  });

  test("removeMember ends the user's sessions in that organization (revokedAt, audit endedSessions), not in their other organization", async () => {
    const userId = await newMember({ alsoOther: true });
    const inOrg = [await open(userId), await open(userId)];
    const inOther = await open(userId);
    assert.equal(await switchOrganization(db.prisma, inOther, userId, world.otherOrgId), true);
    const ended = await open(userId);
    await revokeSession(db.prisma, ended);
    const endedBefore = (await db.prisma.session.findUniqueOrThrow({ where: { id: ended } })).revokedAt;

    const owner = await authenticateToken(db.prisma, world.owner.token);
    await removeMember(db.prisma, owner, world.orgId, userId, { ip: '10.9.8.7', userAgent: 'sessions-test' });

    for (const sessionId of inOrg) {
      const row = await db.prisma.session.findUniqueOrThrow({ where: { id: sessionId } });
      assert.ok(row.revokedAt instanceof Date, 'the session in the organization is revoked');
      await assertEnded(sessionId, /signed out/);
    }
    const other = await db.prisma.session.findUniqueOrThrow({ where: { id: inOther } });
    assert.equal(other.revokedAt, null, 'the session in the other organization stays');
    const otherActor = await sessionActor(db.prisma, inOther);
    assert.deepEqual([otherActor.organizationId, otherActor.orgRole], [world.otherOrgId, 'admin']);
    assert.deepEqual((await db.prisma.session.findUniqueOrThrow({ where: { id: ended } })).revokedAt, endedBefore, 'an ended session keeps its time');

    const audit = await db.prisma.auditLog.findMany({ where: { action: 'member.remove', targetId: userId } });
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.organizationId, world.orgId);
    assert.equal(audit[0]!.actorUserId, world.owner.userId);
    const details = audit[0]!.details as Record<string, unknown>;
    assert.equal(details.endedSessions, 2, 'the two live sessions in the organization');
    assert.equal(details.role, 'member');
    assert.equal(details.revokedTokens, 1, "the user's personal token of the organization");
  });
});

describe('switchOrganization', () => {
  test('moves a session to another organization of its user: the actor then has the roles there', async () => {
    const userId = await newMember({ alsoOther: true });
    const sessionId = await open(userId);
    assert.equal((await db.prisma.session.findUniqueOrThrow({ where: { id: sessionId } })).organizationId, world.orgId, 'oldest membership first');

    assert.equal(await switchOrganization(db.prisma, sessionId, userId, world.otherOrgId), true);
    assert.equal((await db.prisma.session.findUniqueOrThrow({ where: { id: sessionId } })).organizationId, world.otherOrgId);
    const actor = await sessionActor(db.prisma, sessionId);
    assert.deepEqual([actor.organizationId, actor.orgRole, actor.tenantRoles], [world.otherOrgId, 'admin', {}]);

    assert.equal(await switchOrganization(db.prisma, sessionId, userId, world.orgId), true, 'and back');
    assert.deepEqual((await sessionActor(db.prisma, sessionId)).tenantRoles, { [world.tenantA]: 'member' });
  });

  test('refuses (false, session unchanged) an organization the user does not belong to, an unknown one, another user’s session and an ended session', async () => {
    const userId = await newMember();
    const sessionId = await open(userId);
    const third = await db.prisma.organization.create({ data: { slug: `third-${process.pid}`, name: 'Third' } });
    const unchanged = async () => assert.equal((await db.prisma.session.findUniqueOrThrow({ where: { id: sessionId } })).organizationId, world.orgId);

    assert.equal(await switchOrganization(db.prisma, sessionId, userId, world.otherOrgId), false, 'not a member of the other organization');
    await unchanged();
    assert.equal(await switchOrganization(db.prisma, sessionId, userId, third.id), false);
    await unchanged();
    assert.equal(await switchOrganization(db.prisma, sessionId, userId, 'no-such-organization'), false);
    await unchanged();
    assert.equal((await sessionActor(db.prisma, sessionId)).organizationId, world.orgId);

    // The other organization's owner is a member there, but this is not their session.
    assert.equal(await switchOrganization(db.prisma, sessionId, world.otherOwner.userId, world.otherOrgId), false);
    await unchanged();

    await db.prisma.orgMembership.create({ data: { organizationId: third.id, userId, role: 'member' } });
    await revokeSession(db.prisma, sessionId);
    assert.equal(await switchOrganization(db.prisma, sessionId, userId, third.id), false, 'a signed-out session does not move');
    await unchanged();
  });
});

describe('revokeUserSessions', () => {
  test("with an organization: only the user's live sessions there; without: all the rest; nobody else's", async () => {
    const userId = await newMember({ alsoOther: true });
    const bystander = await newMember();
    const a1 = await open(userId);
    const a2 = await open(userId);
    const b1 = await open(userId);
    assert.equal(await switchOrganization(db.prisma, b1, userId, world.otherOrgId), true);
    const old = await open(userId);
    await revokeSession(db.prisma, old, new Date('2029-06-01T00:00:00Z'));
    const theirs = await open(bystander);

    const at = new Date('2035-01-01T00:00:00Z');
    assert.equal(await revokeUserSessions(db.prisma, userId, world.otherOrgId, at), 1);
    assert.deepEqual((await db.prisma.session.findUniqueOrThrow({ where: { id: b1 } })).revokedAt, at);
    for (const id of [a1, a2]) assert.equal((await db.prisma.session.findUniqueOrThrow({ where: { id } })).revokedAt, null);

    assert.equal(await revokeUserSessions(db.prisma, userId), 2, 'the two left, not the ended ones');
    for (const id of [a1, a2]) await assertEnded(id, /signed out/);
    assert.deepEqual((await db.prisma.session.findUniqueOrThrow({ where: { id: old } })).revokedAt, new Date('2029-06-01T00:00:00Z'));
    assert.deepEqual((await db.prisma.session.findUniqueOrThrow({ where: { id: b1 } })).revokedAt, at);
    assert.equal(await revokeUserSessions(db.prisma, userId), 0, 'nothing left to end');

    assert.equal((await sessionActor(db.prisma, theirs)).userId, bystander, "another user's session stays");
  });
});

describe('startSession', () => {
  test('opens in the oldest organization, recording provider and origin', async () => {
    const userId = await newMember({ alsoOther: true });
    const now = new Date();
    const started = await startSession(db.prisma, { userId, provider: 'github', origin: { ip: '192.0.2.7', userAgent: 'agent/2' } }, now);
    assert.ok(started);
    assert.equal(started.organizationId, world.orgId);
    const row = await db.prisma.session.findUniqueOrThrow({ where: { id: started.sessionId } });
    assert.deepEqual(
      [row.userId, row.organizationId, row.provider, row.ip, row.userAgent, row.revokedAt, row.expiresAt.getTime()],
      [userId, world.orgId, 'github', '192.0.2.7', 'agent/2', null, now.getTime() + SESSION_MAX_AGE_SECONDS * 1000],
    );
  });

  test('returns null, and opens nothing, for a user without organizations', async () => {
    const user = await db.prisma.user.create({ data: { email: `lonely-${process.pid}@example.test` } });
    assert.equal(await startSession(db.prisma, { userId: user.id, provider: 'oidc', origin: null }), null);
    assert.equal(await db.prisma.session.count({ where: { userId: user.id } }), 0);
  });
});
