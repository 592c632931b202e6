import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as tenantsRoute from '../../app/api/v1/tenants/route';
import { bootstrapFromEnv, BOOTSTRAP_ADMIN_EMAIL } from '../../lib/auth/bootstrap';
import { createLogger } from '../../lib/log';
import { createPrismaClient } from '../../lib/db/client';
import type { TestDatabase } from '../support/db';
import { call, expectStatus, setupApiDatabase, teardownApiDatabase } from './helpers';

let database: TestDatabase;
const quiet = createLogger('bootstrap-test');
quiet.level = 'silent';

before(async () => {
  database = await setupApiDatabase();
});
after(() => teardownApiDatabase(database));

const TOKEN = 'bk_bootstrapTokenForTests_0123456789abcdef';

test('no BUILDIT_BOOTSTRAP_TOKEN: nothing happens', async () => {
  assert.deepEqual(await bootstrapFromEnv(database.prisma, {}, quiet), { status: 'skipped' });
  assert.equal(await database.prisma.organization.count(), 0);
});

test('an unusable token value is refused with a message that says why', async () => {
  await assert.rejects(bootstrapFromEnv(database.prisma, { BUILDIT_BOOTSTRAP_TOKEN: 'short' }, quiet), /BUILDIT_BOOTSTRAP_TOKEN.*at least 20/);
  await assert.rejects(bootstrapFromEnv(database.prisma, { BUILDIT_BOOTSTRAP_TOKEN: 'has a space in the middle!!' }, quiet), /BUILDIT_BOOTSTRAP_TOKEN/);
});

test('two processes bootstrapping at once create exactly one organization, tenant, user and token', async () => {
  // Separate clients (separate pools), as two processes would have.
  const clients = [createPrismaClient(database.url), createPrismaClient(database.url), createPrismaClient(database.url)];
  try {
    const results = await Promise.all(clients.map((client) => bootstrapFromEnv(client, { BUILDIT_BOOTSTRAP_TOKEN: TOKEN }, quiet)));
    assert.deepEqual(results.map((r) => r.status).sort(), ['created', 'exists', 'exists']);
  } finally {
    await Promise.all(clients.map((client) => client.$disconnect()));
  }
  assert.equal(await database.prisma.organization.count(), 1);
  assert.equal(await database.prisma.tenant.count(), 1);
  assert.equal(await database.prisma.user.count(), 1);
  assert.equal(await database.prisma.apiKey.count(), 1);
  const membership = await database.prisma.orgMembership.findFirstOrThrow({ include: { user: true, organization: true } });
  assert.equal(membership.role, 'owner');
  assert.equal(membership.user.email, BOOTSTRAP_ADMIN_EMAIL);
  assert.equal(membership.organization.slug, 'default');
  const key = await database.prisma.apiKey.findFirstOrThrow();
  assert.deepEqual(key.scopes, ['admin']);
  assert.equal(key.prefix, TOKEN.slice(0, 12));
  assert.notEqual(key.hash, TOKEN, 'only the hash is stored');
  assert.match(key.hash, /^[0-9a-f]{64}$/);

  // A second start does nothing.
  assert.equal((await bootstrapFromEnv(database.prisma, { BUILDIT_BOOTSTRAP_TOKEN: TOKEN }, quiet)).status, 'exists');
  assert.equal(await database.prisma.apiKey.count(), 1);
});

test('the bootstrap token works against the API and sees the default tenant', async () => {
  const result = await call(tenantsRoute.GET, 'GET', '/api/v1/tenants', { token: TOKEN });
  expectStatus(result, 200);
  assert.deepEqual(
    (result.body as { items: Array<{ slug: string }> }).items.map((t) => t.slug),
    ['default'],
  );
});

test('a different token sharing the lookup prefix is refused, not silently accepted', async () => {
  const clash = TOKEN.slice(0, 12) + 'somethingElseEntirely_xyz';
  await assert.rejects(bootstrapFromEnv(database.prisma, { BUILDIT_BOOTSTRAP_TOKEN: clash }, quiet), /same 12 characters/);
});

test('a new bootstrap token later reuses the default organization and adds a token', async () => {
  const second = 'bk_secondBootstrapToken_abcdefghijklmnop';
  assert.equal((await bootstrapFromEnv(database.prisma, { BUILDIT_BOOTSTRAP_TOKEN: second }, quiet)).status, 'created');
  assert.equal(await database.prisma.organization.count(), 1);
  assert.equal(await database.prisma.user.count(), 1);
  assert.equal(await database.prisma.apiKey.count(), 2);
});
