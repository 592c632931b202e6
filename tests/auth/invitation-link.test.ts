/**
 * The invitation link in a browser (lib/auth/invitation-link.ts), on a real PostgreSQL: what the page says
 * for every kind of link, a person without an account joining by choosing a password (who can then sign in
 * with it), a signed-in user accepting, refusals that change nothing, no token in any audit row, and the
 * link (`url`) in the API's create response.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as invitationsRoute from '../../app/api/v1/organizations/[organizationId]/invitations/route';
import { acceptAsSignedInUser, acceptWithNewPassword, describeInvitation, InvitationLinkError } from '../../lib/auth/invitation-link';
import { generateInvitationToken, InvitationError } from '../../lib/auth/invitations';
import { signInWithPassword } from '../../lib/auth/password-sign-in';
import { hashPassword } from '../../lib/auth/passwords';
import { hashToken } from '../../lib/auth/tokens';
import type { OrgRole, TenantRole } from '../../lib/generated/prisma/enums';
import { call, createUserWithToken, expectStatus, useApiWorld } from '../api/helpers';

const api = useApiWorld();
const prisma = () => api.database.prisma;
const ORIGIN = { ip: '198.51.100.7', userAgent: 'invitation-link-test/1.0' };
const DAY = 24 * 60 * 60 * 1000;
const PASSWORD = 'correct horse battery staple';

/** Every token made in this file: none may ever appear in an audit row. */
const tokens: string[] = [];

let counter = 0;
const freshEmail = () => `invitee-${process.pid}-${++counter}@example.test`;

async function invite(
  email: string,
  options: { role?: OrgRole; tenantRoles?: Record<string, TenantRole>; expiresAt?: Date; revokedAt?: Date; organizationId?: string } = {},
) {
  const token = generateInvitationToken();
  tokens.push(token);
  const invitation = await prisma().invitation.create({
    data: {
      organizationId: options.organizationId ?? api.world.orgId,
      email,
      role: options.role ?? 'member',
      tenantRoles: options.tenantRoles ?? {},
      tokenHash: hashToken(token),
      expiresAt: options.expiresAt ?? new Date(Date.now() + 7 * DAY),
      revokedAt: options.revokedAt ?? null,
      createdById: api.world.owner.userId,
    },
  });
  return { token, invitation };
}

/** A user with this email and a password (an existing account). */
async function userWithPassword(email: string, password = PASSWORD) {
  return prisma().user.create({ data: { email, passwordHash: await hashPassword(password) } });
}

/** Counts of what accepting a link may create, to compare before and after a refusal. */
async function footprint() {
  const [users, withPassword, memberships, tenantMemberships, audit, accepted] = await Promise.all([
    prisma().user.count(),
    prisma().user.count({ where: { passwordHash: { not: null } } }),
    prisma().orgMembership.count(),
    prisma().tenantMembership.count(),
    prisma().auditLog.count(),
    prisma().invitation.count({ where: { acceptedAt: { not: null } } }),
  ]);
  return { users, withPassword, memberships, tenantMemberships, audit, accepted };
}

async function rejectsWith(promise: Promise<unknown>, type: typeof InvitationError | typeof InvitationLinkError, code: string, message: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof type, `expected a ${type.name}, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

describe('describeInvitation', () => {
  test('a pending invitation: its organization, email and role, whether the email has a password, never the token or its hash', async () => {
    const email = freshEmail();
    const { token } = await invite(email, { role: 'admin' });
    const description = await describeInvitation(prisma(), token);
    assert.deepEqual(description, {
      organizationId: api.world.orgId,
      organizationName: 'Org',
      email,
      role: 'admin',
      status: 'pending',
      acceptedByUserId: null,
      userHasPassword: false,
    });
    assert.ok(!JSON.stringify(description).includes(hashToken(token)));
    assert.ok(!JSON.stringify(description).includes(token));

    await userWithPassword(email);
    assert.equal((await describeInvitation(prisma(), token))?.userHasPassword, true);
    // A user without a password (a sign-in provider's) does not count.
    const oauthEmail = freshEmail();
    await prisma().user.create({ data: { email: oauthEmail } });
    const { token: oauthToken } = await invite(oauthEmail);
    assert.equal((await describeInvitation(prisma(), oauthToken))?.userHasPassword, false);
  });

  test('accepted (by whom), expired, revoked', async () => {
    const email = freshEmail();
    const { token } = await invite(email);
    const userId = await acceptWithNewPassword(prisma(), { token, password: PASSWORD }, ORIGIN);
    assert.deepEqual(await describeInvitation(prisma(), token).then((d) => [d?.status, d?.acceptedByUserId, d?.userHasPassword]), ['accepted', userId, true]);

    const expired = await invite(freshEmail(), { expiresAt: new Date(Date.now() - 1000) });
    assert.equal((await describeInvitation(prisma(), expired.token))?.status, 'expired');
    const revoked = await invite(freshEmail(), { revokedAt: new Date() });
    assert.equal((await describeInvitation(prisma(), revoked.token))?.status, 'revoked');
    // `now` decides expiry: the same pending link is expired 8 days later.
    const pending = await invite(freshEmail());
    assert.equal((await describeInvitation(prisma(), pending.token, new Date(Date.now() + 8 * DAY)))?.status, 'expired');
  });

  test('garbage, a well-formed unknown token, or an id: null', async () => {
    const { invitation } = await invite(freshEmail());
    for (const token of [
      '',
      'not-a-token',
      'bki_short',
      'bki_' + 'x'.repeat(43),
      generateInvitationToken(),
      invitation.id,
      invitation.tokenHash,
      "bki_' OR 1=1 --",
    ]) {
      assert.equal(await describeInvitation(prisma(), token), null, token);
    }
  });
});

describe('acceptWithNewPassword', () => {
  test('creates the user with that password, joins with the roles, and the user then signs in with it; once', async () => {
    const email = freshEmail();
    const { token, invitation } = await invite(email, { role: 'admin', tenantRoles: { [api.world.tenantA]: 'viewer' } });
    const userId = await acceptWithNewPassword(prisma(), { token, password: PASSWORD, name: '  Ada Lovelace ' }, ORIGIN);

    const user = await prisma().user.findUniqueOrThrow({ where: { id: userId } });
    assert.equal(user.email, email);
    assert.equal(user.name, 'Ada Lovelace');
    assert.ok(user.passwordHash?.startsWith('scrypt$'), 'stored hashed');
    const membership = await prisma().orgMembership.findUniqueOrThrow({ where: { organizationId_userId: { organizationId: api.world.orgId, userId } } });
    assert.equal(membership.role, 'admin');
    assert.equal((await prisma().tenantMembership.findUniqueOrThrow({ where: { tenantId_userId: { tenantId: api.world.tenantA, userId } } })).role, 'viewer');
    const row = await prisma().invitation.findUniqueOrThrow({ where: { id: invitation.id } });
    assert.equal(row.acceptedById, userId);

    const audit = await prisma().auditLog.findFirstOrThrow({ where: { action: 'invitation.accept', targetId: invitation.id } });
    assert.equal(audit.actorUserId, userId);
    assert.equal(audit.organizationId, api.world.orgId);
    assert.equal(audit.ip, ORIGIN.ip);
    assert.equal(audit.userAgent, ORIGIN.userAgent);
    assert.deepEqual(audit.details, { email, role: 'admin', tenantRoles: { [api.world.tenantA]: 'viewer' }, via: 'link', account: 'created' });

    const signedIn = await signInWithPassword(prisma(), { email: email.toUpperCase(), password: PASSWORD, origin: ORIGIN });
    assert.equal(signedIn.user.id, userId);
    await assert.rejects(signInWithPassword(prisma(), { email, password: PASSWORD + '!', origin: ORIGIN }), /wrong email or password/);

    const before = await footprint();
    await rejectsWith(acceptWithNewPassword(prisma(), { token, password: 'another long password' }, ORIGIN), InvitationError, 'used', /already been accepted/);
    assert.deepEqual(await footprint(), before);
    // The first password still works: the second call changed nothing.
    assert.equal((await signInWithPassword(prisma(), { email, password: PASSWORD, origin: ORIGIN })).user.id, userId);
  });

  test('refuses an email that already has a password: sign in instead; nothing changes', async () => {
    const email = freshEmail();
    const existing = await userWithPassword(email, 'the password I already had');
    const { token } = await invite(email);
    const before = await footprint();
    await rejectsWith(
      acceptWithNewPassword(prisma(), { token, password: PASSWORD }, ORIGIN),
      InvitationLinkError,
      'has_account',
      /^you already have an account: sign in, then open the link again$/,
    );
    assert.deepEqual(await footprint(), before);
    assert.equal((await prisma().user.findUniqueOrThrow({ where: { id: existing.id } })).passwordHash, existing.passwordHash);
    assert.equal((await describeInvitation(prisma(), token))?.status, 'pending');
  });

  test('an existing user row without a password and without any access gets the password; one with access is not taken over', async () => {
    const email = freshEmail();
    const bare = await prisma().user.create({ data: { email } });
    const { token } = await invite(email);
    assert.equal(await acceptWithNewPassword(prisma(), { token, password: PASSWORD }, ORIGIN), bare.id);
    assert.equal((await signInWithPassword(prisma(), { email, password: PASSWORD, origin: ORIGIN })).user.id, bare.id);
    const audit = await prisma().auditLog.findFirstOrThrow({ where: { action: 'invitation.accept', actorUserId: bare.id } });
    assert.equal((audit.details as { account: string }).account, 'password set');

    // A member of another organization who signs in with a provider (no password), invited here: whoever
    // holds the link must not be able to give that account a password.
    const member = await createUserWithToken(prisma(), { organizationId: api.world.otherOrgId, orgRole: 'owner' });
    const memberEmail = freshEmail();
    await prisma().user.update({ where: { id: member.userId }, data: { email: memberEmail } });
    const second = await invite(memberEmail);
    const before = await footprint();
    await rejectsWith(acceptWithNewPassword(prisma(), { token: second.token, password: PASSWORD }, ORIGIN), InvitationLinkError, 'has_account', /sign in/);
    assert.deepEqual(await footprint(), before);
    assert.equal((await prisma().user.findUniqueOrThrow({ where: { id: member.userId } })).passwordHash, null);

    const disabledEmail = freshEmail();
    await prisma().user.create({ data: { email: disabledEmail, disabledAt: new Date() } });
    const third = await invite(disabledEmail);
    await rejectsWith(acceptWithNewPassword(prisma(), { token: third.token, password: PASSWORD }, ORIGIN), InvitationLinkError, 'disabled', /disabled/);
  });

  test('a password that cannot be chosen: refused with the reason, nothing accepted or created', async () => {
    const email = freshEmail();
    const { token } = await invite(email);
    const before = await footprint();
    await rejectsWith(
      acceptWithNewPassword(prisma(), { token, password: 'short' }, ORIGIN),
      InvitationLinkError,
      'invalid_password',
      /too short: use at least 12/,
    );
    await rejectsWith(acceptWithNewPassword(prisma(), { token, password: 'x'.repeat(1025) }, ORIGIN), InvitationLinkError, 'invalid_password', /too long/);
    await rejectsWith(
      acceptWithNewPassword(prisma(), { token, password: PASSWORD, name: 'n'.repeat(101) }, ORIGIN),
      InvitationLinkError,
      'invalid_name',
      /too long/,
    );
    assert.deepEqual(await footprint(), before);
    assert.equal(await prisma().user.findUnique({ where: { email } }), null);
    assert.equal((await describeInvitation(prisma(), token))?.status, 'pending');
  });

  test('expired, revoked or unknown links: refused, nothing created', async () => {
    const expired = await invite(freshEmail(), { expiresAt: new Date(Date.now() - 1000) });
    const revoked = await invite(freshEmail(), { revokedAt: new Date() });
    const before = await footprint();
    await rejectsWith(
      acceptWithNewPassword(prisma(), { token: expired.token, password: PASSWORD }, ORIGIN),
      InvitationError,
      'expired',
      /expired: ask an admin/,
    );
    await rejectsWith(
      acceptWithNewPassword(prisma(), { token: revoked.token, password: PASSWORD }, ORIGIN),
      InvitationError,
      'revoked',
      /revoked: ask an admin/,
    );
    for (const token of ['garbage', generateInvitationToken()]) {
      await rejectsWith(acceptWithNewPassword(prisma(), { token, password: PASSWORD }, ORIGIN), InvitationError, 'not_found', /invitation not found/);
    }
    // Checked again inside the transaction: `now` past the expiry refuses a link that is pending today.
    const pending = await invite(freshEmail());
    await rejectsWith(
      acceptWithNewPassword(prisma(), { token: pending.token, password: PASSWORD }, ORIGIN, new Date(Date.now() + 8 * DAY)),
      InvitationError,
      'expired',
      /expired/,
    );
    assert.deepEqual(await footprint(), before);
    for (const { invitation } of [expired, revoked, pending]) assert.equal(await prisma().user.findUnique({ where: { email: invitation.email } }), null);
  });

  test('with password sign-in turned off: refused, nothing created', async () => {
    const { token, invitation } = await invite(freshEmail());
    const before = await footprint();
    process.env.BUILDIT_PASSWORD_SIGNIN = 'off';
    try {
      await rejectsWith(acceptWithNewPassword(prisma(), { token, password: PASSWORD }, ORIGIN), InvitationLinkError, 'password_sign_in_off', /turned off/);
    } finally {
      delete process.env.BUILDIT_PASSWORD_SIGNIN;
    }
    assert.deepEqual(await footprint(), before);
    assert.equal(await prisma().user.findUnique({ where: { email: invitation.email } }), null);
  });

  test('the same link used twice at once: one account, one membership', async () => {
    const email = freshEmail();
    const { token } = await invite(email);
    const results = await Promise.allSettled([
      acceptWithNewPassword(prisma(), { token, password: PASSWORD }, ORIGIN),
      acceptWithNewPassword(prisma(), { token, password: 'a different long password' }, ORIGIN),
    ]);
    const fulfilled = results.filter((result) => result.status === 'fulfilled');
    assert.equal(fulfilled.length, 1, JSON.stringify(results.map((result) => (result.status === 'rejected' ? String(result.reason) : 'ok'))));
    for (const result of results) {
      if (result.status === 'rejected')
        assert.ok(result.reason instanceof InvitationError || result.reason instanceof InvitationLinkError, String(result.reason));
    }
    const user = await prisma().user.findUniqueOrThrow({ where: { email } });
    assert.equal(await prisma().orgMembership.count({ where: { userId: user.id } }), 1);
  });
});

describe('acceptAsSignedInUser', () => {
  test('the user with the invitation’s email joins, audited via the link', async () => {
    const user = await createUserWithToken(prisma(), { organizationId: api.world.otherOrgId, orgRole: 'member' });
    const email = freshEmail();
    await prisma().user.update({ where: { id: user.userId }, data: { email } });
    const { token, invitation } = await invite(email, { role: 'member', tenantRoles: { [api.world.tenantB]: 'member' } });
    const accepted = await acceptAsSignedInUser(prisma(), user.userId, token, ORIGIN);
    assert.deepEqual(accepted, {
      invitationId: invitation.id,
      organizationId: api.world.orgId,
      role: 'member',
      tenantRoles: { [api.world.tenantB]: 'member' },
    });
    assert.equal(await prisma().orgMembership.count({ where: { organizationId: api.world.orgId, userId: user.userId } }), 1);
    const audit = await prisma().auditLog.findFirstOrThrow({ where: { action: 'invitation.accept', targetId: invitation.id } });
    assert.equal(audit.actorUserId, user.userId);
    assert.equal(audit.organizationId, api.world.orgId);
    assert.deepEqual(audit.details, { email, role: 'member', tenantRoles: { [api.world.tenantB]: 'member' }, via: 'link' });
    const description = await describeInvitation(prisma(), token);
    assert.deepEqual([description?.status, description?.acceptedByUserId], ['accepted', user.userId]);

    await rejectsWith(acceptAsSignedInUser(prisma(), user.userId, token, ORIGIN), InvitationError, 'used', /already been accepted/);
  });

  test('another user: not found, as for an unknown link; the invitation stays pending', async () => {
    const { token } = await invite(freshEmail());
    const before = await footprint();
    await rejectsWith(acceptAsSignedInUser(prisma(), api.world.otherOwner.userId, token, ORIGIN), InvitationError, 'not_found', /invitation not found/);
    await rejectsWith(acceptAsSignedInUser(prisma(), api.world.otherOwner.userId, 'garbage', ORIGIN), InvitationError, 'not_found', /invitation not found/);
    assert.deepEqual(await footprint(), before);
    assert.equal((await describeInvitation(prisma(), token))?.status, 'pending');
  });
});

describe('the create response', () => {
  test('carries the link: BUILDIT_PUBLIC_URL’s origin, /invitations/, the token', async () => {
    const saved = process.env.BUILDIT_PUBLIC_URL;
    process.env.BUILDIT_PUBLIC_URL = 'https://ci.example.test/';
    try {
      const created = await call(invitationsRoute.POST, 'POST', '/', {
        token: api.world.owner.token,
        params: { organizationId: api.world.orgId },
        body: { email: freshEmail() },
      });
      expectStatus(created, 201);
      const body = created.body as { token: string; url: string };
      tokens.push(body.token);
      assert.equal(body.url, `https://ci.example.test/invitations/${body.token}`);
      assert.equal((await describeInvitation(prisma(), new URL(body.url).pathname.split('/').pop()!))?.status, 'pending');
    } finally {
      if (saved === undefined) delete process.env.BUILDIT_PUBLIC_URL;
      else process.env.BUILDIT_PUBLIC_URL = saved;
    }
  });
});

describe('audit rows', () => {
  // Last in the file: every row the tests above wrote.
  test('never contain a token of this file', async () => {
    assert.ok(tokens.length > 10);
    const { rows } = await api.database.pool.query<{ row: string }>('SELECT a::text AS row FROM audit_logs a');
    assert.ok(
      rows.some((row) => row.row.includes('invitation.accept')),
      'there are rows to look at',
    );
    const all = rows.map((row) => row.row).join('\n');
    for (const token of tokens) {
      assert.ok(!all.includes(token), 'an audit row contains a token');
      assert.ok(!all.includes(token.slice(4)), 'an audit row contains a token without its prefix');
    }
  });
});
