// The first organization and its owner: the setup page's createFirstOwner and BUILDIT_ADMIN_EMAIL/PASSWORD.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { bootstrapFromEnv, BOOTSTRAP_ADMIN_EMAIL } from '../../lib/auth/bootstrap';
import { createFirstOwner, ownerFromEnv, SetupError, setupNeeded } from '../../lib/auth/first-run';
import { signInWithPassword } from '../../lib/auth/password-sign-in';
import { hashPassword, verifyPassword } from '../../lib/auth/passwords';
import { createLogger } from '../../lib/log';
import { createTestDatabase, type TestDatabase } from '../support/db';

const quiet = createLogger('first-run-test');
quiet.level = 'silent';
const PASSWORD = 'correct horse battery staple';
const ORIGIN = { ip: '10.1.0.1', userAgent: 'test-agent/1.0' };
const SETUP = { organizationName: 'Acme Builds', email: 'Owner@Acme.test', password: PASSWORD };
const BOOTSTRAP_ENV = { BUILDIT_BOOTSTRAP_TOKEN: 'bk_bootstrapTokenForTests_0123456789abcdef' };

async function database(t: TestContext): Promise<TestDatabase> {
  const db = await createTestDatabase();
  t.after(() => db.drop());
  return db;
}

async function setupError(attempt: Promise<unknown>): Promise<SetupError> {
  try {
    await attempt;
  } catch (error) {
    assert.ok(error instanceof SetupError, String(error));
    return error;
  }
  assert.fail('the setup was accepted');
}

test('setupNeeded: true on a fresh install and after the bootstrap (its admin has no password), false once an owner has one', async (t) => {
  const db = await database(t);
  assert.equal(await setupNeeded(db.prisma), true);
  await bootstrapFromEnv(db.prisma, BOOTSTRAP_ENV, quiet);
  assert.equal(await setupNeeded(db.prisma), true);
  await createFirstOwner(db.prisma, SETUP, ORIGIN);
  assert.equal(await setupNeeded(db.prisma), false);
});

test('setupNeeded: false once anyone has signed in, even through a provider (no password)', async (t) => {
  const db = await database(t);
  const organization = await db.prisma.organization.create({ data: { slug: 'acme', name: 'Acme' } });
  const user = await db.prisma.user.create({ data: { email: 'sso@acme.test' } });
  assert.equal(await setupNeeded(db.prisma), true);
  await db.prisma.session.create({
    data: { userId: user.id, organizationId: organization.id, provider: 'oidc', expiresAt: new Date(Date.now() + 60_000), revokedAt: new Date() },
  });
  assert.equal(await setupNeeded(db.prisma), false, 'even a session that has ended');
});

test('createFirstOwner: the organization, its default tenant, the owner with a working password, one audit row', async (t) => {
  const db = await database(t);
  const created = await createFirstOwner(db.prisma, SETUP, ORIGIN);

  const organization = await db.prisma.organization.findUniqueOrThrow({ where: { id: created.organizationId }, include: { tenants: true, memberships: true } });
  assert.deepEqual([organization.slug, organization.name], ['acme-builds', 'Acme Builds']);
  assert.deepEqual(
    organization.tenants.map((tenant) => [tenant.id, tenant.slug]),
    [[created.tenantId, 'default']],
  );
  assert.deepEqual(
    organization.memberships.map((m) => [m.userId, m.role]),
    [[created.userId, 'owner']],
  );
  const user = await db.prisma.user.findUniqueOrThrow({ where: { id: created.userId } });
  assert.equal(user.email, 'owner@acme.test', 'stored normalized');
  assert.equal(await verifyPassword(PASSWORD, user.passwordHash!), true);
  const { user: signedIn } = await signInWithPassword(db.prisma, { email: 'owner@acme.test', password: PASSWORD, origin: ORIGIN });
  assert.equal(signedIn.id, created.userId);

  const rows = await db.prisma.auditLog.findMany({ where: { action: 'auth.setup' } });
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.organizationId, created.organizationId);
  assert.equal(rows[0]!.actorUserId, created.userId);
  assert.equal(rows[0]!.ip, ORIGIN.ip);
  assert.deepEqual(rows[0]!.details, { organization: 'acme-builds', name: 'Acme Builds', tenant: 'default', owner: 'owner@acme.test', via: 'setup page' });
  const { rows: text } = await db.pool.query<{ row: string }>('SELECT a::text AS row FROM audit_logs a');
  assert.ok(
    text.every(({ row }) => !row.includes(PASSWORD)),
    'no password in the audit log',
  );
});

test('a second setup is refused with what to do, and changes nothing', async (t) => {
  const db = await database(t);
  await createFirstOwner(db.prisma, SETUP, ORIGIN);
  const error = await setupError(
    createFirstOwner(db.prisma, { organizationName: 'Evil', email: 'owner@acme.test', password: 'another long password' }, ORIGIN),
  );
  assert.equal(error.code, 'setup_done');
  assert.equal(error.message, 'BuildIt is already set up: sign in instead');
  assert.equal(await db.prisma.organization.count(), 1);
  await signInWithPassword(db.prisma, { email: 'owner@acme.test', password: PASSWORD, origin: ORIGIN });
});

test('invalid input is refused with what to fix, and creates nothing', async (t) => {
  const db = await database(t);
  const cases: [Partial<typeof SETUP>, RegExp][] = [
    [{ password: 'too short' }, /at least 12 characters/],
    [{ email: 'not an email' }, /enter an email address/],
    [{ email: '' }, /enter an email address/],
    [{ organizationName: '   ' }, /organization name has 1 to 100 characters/],
    [{ organizationName: 'x'.repeat(101) }, /organization name has 1 to 100 characters/],
  ];
  for (const [change, message] of cases) {
    const error = await setupError(createFirstOwner(db.prisma, { ...SETUP, ...change }, ORIGIN));
    assert.equal(error.code, 'invalid_input');
    assert.match(error.message, message);
    assert.ok(!error.message.includes(PASSWORD));
  }
  assert.equal(await db.prisma.organization.count(), 0);
  assert.equal(await db.prisma.user.count(), 0);
  assert.equal(await setupNeeded(db.prisma), true);
});

test('two setups at once create exactly one organization and one owner; the other is told to sign in', async (t) => {
  const db = await database(t);
  const results = await Promise.allSettled([
    createFirstOwner(db.prisma, SETUP, ORIGIN),
    createFirstOwner(db.prisma, { organizationName: 'Other', email: 'other@acme.test', password: 'another long password' }, ORIGIN),
  ]);
  assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  const rejected = results.find((r) => r.status === 'rejected')!;
  assert.ok(rejected.reason instanceof SetupError && rejected.reason.code === 'setup_done', String(rejected.reason));
  assert.equal(await db.prisma.organization.count(), 1);
  assert.equal(await db.prisma.orgMembership.count(), 1);
  assert.equal(await db.prisma.user.count({ where: { passwordHash: { not: null } } }), 1);
});

test("after the bootstrap: setup takes its organization (renamed, with what the token made) and reuses its admin's user row when given that email", async (t) => {
  const db = await database(t);
  const bootstrap = await bootstrapFromEnv(db.prisma, BOOTSTRAP_ENV, quiet);
  assert.equal(bootstrap.status, 'created');
  const created = await createFirstOwner(db.prisma, { organizationName: 'Acme', email: BOOTSTRAP_ADMIN_EMAIL, password: PASSWORD }, ORIGIN);
  assert.equal(bootstrap.status === 'created' && bootstrap.userId, created.userId);
  assert.equal(bootstrap.status === 'created' && bootstrap.organizationId, created.organizationId);
  assert.equal(bootstrap.status === 'created' && bootstrap.tenantId, created.tenantId);
  assert.equal(await db.prisma.user.count(), 1);
  const organizations = await db.prisma.organization.findMany();
  assert.deepEqual(
    organizations.map((o) => [o.slug, o.name]),
    [['default', 'Acme']],
  );
});

test('ownerFromEnv: nothing without the variables; otherwise the owner of `default`, once', async (t) => {
  const db = await database(t);
  assert.deepEqual(await ownerFromEnv(db.prisma, {}, quiet), { status: 'skipped' });
  const env = { BUILDIT_ADMIN_EMAIL: 'Admin@Acme.test', BUILDIT_ADMIN_PASSWORD: PASSWORD };
  const created = await ownerFromEnv(db.prisma, env, quiet);
  assert.equal(created.status, 'created');
  const organization = await db.prisma.organization.findUniqueOrThrow({ where: { slug: 'default' }, include: { tenants: true, memberships: true } });
  assert.equal(organization.name, 'Default organization');
  assert.deepEqual(
    organization.tenants.map((tenant) => tenant.slug),
    ['default'],
  );
  assert.deepEqual(
    organization.memberships.map((m) => m.role),
    ['owner'],
  );
  await signInWithPassword(db.prisma, { email: 'admin@acme.test', password: PASSWORD, origin: null });
  assert.equal(await setupNeeded(db.prisma), false);
  const [row] = await db.prisma.auditLog.findMany({ where: { action: 'auth.setup' } });
  assert.deepEqual([row!.actorUserId, (row!.details as { via: string }).via], [null, 'BUILDIT_ADMIN_EMAIL']);

  // Every later start: nothing changes.
  const before = await db.prisma.user.findUniqueOrThrow({ where: { email: 'admin@acme.test' } });
  assert.deepEqual(await ownerFromEnv(db.prisma, env, quiet), { status: 'exists', userId: before.id });
  assert.equal((await db.prisma.user.findUniqueOrThrow({ where: { id: before.id } })).passwordHash, before.passwordHash);
  assert.equal(await db.prisma.organization.count(), 1);
  assert.equal(await db.prisma.auditLog.count({ where: { action: 'auth.setup' } }), 1);
});

test('ownerFromEnv never resets a password the user already has', async (t) => {
  const db = await database(t);
  const previousHash = await hashPassword(PASSWORD);
  const user = await db.prisma.user.create({ data: { email: 'admin@acme.test', passwordHash: previousHash } });
  const result = await ownerFromEnv(db.prisma, { BUILDIT_ADMIN_EMAIL: 'admin@acme.test', BUILDIT_ADMIN_PASSWORD: 'a different long password' }, quiet);
  assert.deepEqual(result, { status: 'exists', userId: user.id });
  assert.equal((await db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash, previousHash);
  assert.equal(await db.prisma.organization.count(), 0);
});

test('ownerFromEnv after the bootstrap: the same `default` organization, its admin user reused', async (t) => {
  const db = await database(t);
  const bootstrap = await bootstrapFromEnv(db.prisma, BOOTSTRAP_ENV, quiet);
  assert.equal(bootstrap.status, 'created');
  const created = await ownerFromEnv(db.prisma, { BUILDIT_ADMIN_EMAIL: BOOTSTRAP_ADMIN_EMAIL, BUILDIT_ADMIN_PASSWORD: PASSWORD }, quiet);
  assert.equal(created.status, 'created');
  assert.ok(created.status === 'created' && bootstrap.status === 'created');
  assert.deepEqual([created.organizationId, created.tenantId, created.userId], [bootstrap.organizationId, bootstrap.tenantId, bootstrap.userId]);
  assert.equal(await db.prisma.organization.count(), 1);
  assert.equal(await db.prisma.tenant.count(), 1);
  await signInWithPassword(db.prisma, { email: BOOTSTRAP_ADMIN_EMAIL, password: PASSWORD, origin: null });
});

test('ownerFromEnv refuses an unusable password at start, naming the variables', async (t) => {
  const db = await database(t);
  await assert.rejects(
    ownerFromEnv(db.prisma, { BUILDIT_ADMIN_EMAIL: 'admin@acme.test', BUILDIT_ADMIN_PASSWORD: 'short' }, quiet),
    /BUILDIT_ADMIN_EMAIL \/ BUILDIT_ADMIN_PASSWORD: the password is too short: use at least 12 characters/,
  );
  assert.equal(await db.prisma.user.count(), 0);
});
