/**
 * Disabling a user (lib/auth/users.ts, `buildit admin disable-user` / `enable-user`) on a real PostgreSQL:
 * their sessions end at once, their personal API token stops working until they are enabled again, and
 * each change leaves an audit row. The CLI runs as a child process against the test database.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { authenticateToken } from '../../lib/auth/authenticate';
import { AuthError } from '../../lib/auth/errors';
import { revokeSession, sessionActor, startSession, switchOrganization } from '../../lib/auth/sessions';
import { setUserDisabled } from '../../lib/auth/users';
import { createUserWithToken, seedWorld, type SeededUser, type World } from '../api/helpers';
import { createTestDatabase, type TestDatabase } from '../support/db';

const BIN = path.resolve(import.meta.dirname, '../../cli/bin.mjs');
const home = mkdtempSync(path.join(os.tmpdir(), 'buildit-disable-user-'));
let db: TestDatabase;
let world: World;

before(async () => {
  db = await createTestDatabase();
  world = await seedWorld(db.prisma);
});

after(async () => {
  await db?.drop();
  rmSync(home, { recursive: true, force: true });
});

/** A fresh user with a personal token, member of both organizations, with its email. */
async function newUser(): Promise<SeededUser & { email: string }> {
  const user = await createUserWithToken(db.prisma, {
    organizationId: world.orgId,
    orgRole: 'member',
    tenantRoles: { [world.tenantA]: 'member' },
    scopes: ['read'],
  });
  await db.prisma.orgMembership.create({ data: { organizationId: world.otherOrgId, userId: user.userId, role: 'member' } });
  const { email } = await db.prisma.user.findUniqueOrThrow({ where: { id: user.userId } });
  return { ...user, email };
}

async function open(userId: string, organizationId = world.orgId): Promise<string> {
  const started = await startSession(db.prisma, { userId, provider: 'oidc', origin: null });
  assert.ok(started);
  if (organizationId !== started.organizationId) assert.equal(await switchOrganization(db.prisma, started.sessionId, userId, organizationId), true);
  return started.sessionId;
}

async function authError(attempt: Promise<unknown>): Promise<AuthError> {
  try {
    await attempt;
  } catch (error) {
    assert.ok(error instanceof AuthError, `expected an AuthError, got ${String(error)}`);
    return error;
  }
  assert.fail('it was accepted');
}

describe('setUserDisabled', () => {
  test('disabling ends every session of the user, refuses their personal token, and writes a user.disable row', async () => {
    const user = await newUser();
    const sessions = [await open(user.userId), await open(user.userId), await open(user.userId, world.otherOrgId)];
    const signedOut = await open(user.userId);
    await revokeSession(db.prisma, signedOut);
    const bystander = await open(world.memberA.userId);
    assert.equal((await authenticateToken(db.prisma, user.token)).userId, user.userId, 'the token works before');

    const now = new Date();
    const result = await setUserDisabled(db.prisma, `  ${user.email.toUpperCase()} `, true, now);
    assert.deepEqual(result, { userId: user.userId, endedSessions: 3 });

    assert.deepEqual((await db.prisma.user.findUniqueOrThrow({ where: { id: user.userId } })).disabledAt, now);
    for (const sessionId of sessions) {
      assert.deepEqual((await db.prisma.session.findUniqueOrThrow({ where: { id: sessionId } })).revokedAt, now, 'ended now, in both organizations');
      const error = await authError(sessionActor(db.prisma, sessionId));
      assert.match(error.message, /sign in again/);
    }
    assert.notDeepEqual((await db.prisma.session.findUniqueOrThrow({ where: { id: signedOut } })).revokedAt, now, 'an ended session keeps its time');
    assert.equal((await sessionActor(db.prisma, bystander)).userId, world.memberA.userId, "other users' sessions stay");

    const refused = await authError(authenticateToken(db.prisma, user.token));
    assert.equal(refused.code, 'invalid_token');
    assert.match(refused.message, /disabled/);
    const key = await db.prisma.apiKey.findUniqueOrThrow({ where: { id: user.apiKeyId } });
    assert.equal(key.revokedAt, null, 'the token is kept (not revoked), so enabling restores it');

    const audit = await db.prisma.auditLog.findMany({ where: { action: 'user.disable', targetId: user.userId } });
    assert.equal(audit.length, 1);
    assert.deepEqual([audit[0]!.targetType, audit[0]!.outcome, audit[0]!.actorUserId, audit[0]!.organizationId], ['user', 'success', null, null]);
    assert.deepEqual(audit[0]!.details, { email: user.email, endedSessions: 3, via: 'buildit admin' });
  });

  test('enabling restores the personal token; the ended sessions stay ended; a user.enable row', async () => {
    const user = await newUser();
    const sessionId = await open(user.userId);
    assert.equal((await setUserDisabled(db.prisma, user.email, true))?.endedSessions, 1);
    await authError(authenticateToken(db.prisma, user.token));

    assert.deepEqual(await setUserDisabled(db.prisma, user.email, false), { userId: user.userId, endedSessions: 0 });
    assert.equal((await db.prisma.user.findUniqueOrThrow({ where: { id: user.userId } })).disabledAt, null);
    const actor = await authenticateToken(db.prisma, user.token);
    assert.deepEqual([actor.userId, actor.organizationId, actor.orgRole, actor.scopes], [user.userId, world.orgId, 'member', ['read']]);
    const ended = await authError(sessionActor(db.prisma, sessionId));
    assert.match(ended.message, /signed out: sign in again/);

    const audit = await db.prisma.auditLog.findMany({ where: { action: 'user.enable', targetId: user.userId } });
    assert.equal(audit.length, 1);
    assert.deepEqual(audit[0]!.details, { email: user.email, endedSessions: 0, via: 'buildit admin' });
    // A session opened after enabling works.
    assert.equal((await sessionActor(db.prisma, await open(user.userId))).userId, user.userId);
  });

  test('an unknown email returns null and writes nothing', async () => {
    const audit = await db.prisma.auditLog.count();
    assert.equal(await setUserDisabled(db.prisma, 'nobody-here@example.test', true), null);
    assert.equal(await setUserDisabled(db.prisma, 'nobody-here@example.test', false), null);
    assert.equal(await db.prisma.auditLog.count(), audit);
  });
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** `buildit ...` as a child process, against the test database (asynchronous: the test's pool stays served). */
function buildit(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: home,
        // A small, explicit environment (no inherited BUILDIT_* of the developer).
        env: {
          PATH: process.env.PATH,
          HOME: home,
          NO_COLOR: '1',
          DATABASE_URL: db.url,
          BUILDIT_DATA_DIR: path.join(home, 'data'),
        } as unknown as NodeJS.ProcessEnv,
        encoding: 'utf8',
        timeout: 120_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('buildit admin disable-user / enable-user', () => {
  test('disable-user ends the sessions and refuses the token, prints what it did and exits 0; enable-user restores the token', async () => {
    const user = await newUser();
    const sessions = [await open(user.userId), await open(user.userId, world.otherOrgId)];

    const disabled = await buildit(['admin', 'disable-user', user.email.toUpperCase()]);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.equal(disabled.stdout, `Disabled ${user.email.toUpperCase()}: 2 session(s) ended; their API tokens stop working until enable-user.\n`);
    assert.ok((await db.prisma.user.findUniqueOrThrow({ where: { id: user.userId } })).disabledAt instanceof Date);
    for (const sessionId of sessions) await authError(sessionActor(db.prisma, sessionId));
    assert.match((await authError(authenticateToken(db.prisma, user.token))).message, /disabled/);
    assert.equal(await db.prisma.auditLog.count({ where: { action: 'user.disable', targetId: user.userId } }), 1);

    const enabled = await buildit(['admin', 'enable-user', user.email, '--json']);
    assert.equal(enabled.code, 0, enabled.stderr);
    assert.deepEqual(JSON.parse(enabled.stdout), { email: user.email, disabled: false, userId: user.userId, endedSessions: 0 });
    assert.equal((await authenticateToken(db.prisma, user.token)).userId, user.userId);
    for (const sessionId of sessions) await authError(sessionActor(db.prisma, sessionId));
  });

  test('an unknown email: a non-zero exit with a clear message, and nothing written', async () => {
    const audit = await db.prisma.auditLog.count();
    const result = await buildit(['admin', 'disable-user', 'ghost@example.test']);
    assert.notEqual(result.code, 0);
    assert.equal(result.code, 2, 'a usage error');
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^buildit: no user has the email ghost@example\.test/);
    assert.equal(await db.prisma.auditLog.count(), audit);
  });
});
