/**
 * The secrets API against the real route handlers and a real PostgreSQL: who may list, set and delete,
 * what a listing shows, input limits, the audit rows, and that the database (pg_dump) holds no value.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import * as secretRoute from '../../app/api/v1/tenants/[tenantId]/secrets/[name]/route';
import * as secretsRoute from '../../app/api/v1/tenants/[tenantId]/secrets/route';
import { MAX_SECRET_BYTES } from '../../lib/api/schemas/secrets';
import { readSecretValues } from '../../lib/secrets/store';
import { assertError, call, createUserWithToken, expectStatus, useApiWorld } from '../api/helpers';
import { dumpDatabase } from './support';

// The key the handlers encrypt with (lib/secrets/keys.ts reads it at each use).
process.env.BUILDIT_SECRET_KEY = randomBytes(32).toString('base64');

const context = useApiWorld();
const path = (tenantId: string, name?: string) => `/api/v1/tenants/${tenantId}/secrets${name === undefined ? '' : `/${name}`}`;

function put(token: string, tenantId: string, name: string, value: unknown) {
  return call(secretRoute.PUT, 'PUT', path(tenantId, name), { token, params: { tenantId, name }, body: { value } });
}
function remove(token: string, tenantId: string, name: string) {
  return call(secretRoute.DELETE, 'DELETE', path(tenantId, name), { token, params: { tenantId, name } });
}
function list(token: string, tenantId: string) {
  return call(secretsRoute.GET, 'GET', path(tenantId), { token, params: { tenantId } });
}

interface Listed {
  name: string;
  tenantId: string;
  createdAt: string;
  updatedAt: string;
  createdBy: { id: string; email: string } | null;
  updatedBy: { id: string; email: string } | null;
}

describe('set, list, delete', () => {
  test('a tenant admin creates (201) and replaces (200) a secret; answers and listings name who and when, never the value', async () => {
    const { world, database } = context;
    const created = await put(world.adminA.token, world.tenantA, 'NPM_TOKEN', 'npm-first-value-1234');
    expectStatus(created, 201);
    const first = created.body as Listed;
    assert.deepEqual(Object.keys(first).sort(), ['createdAt', 'createdBy', 'name', 'tenantId', 'updatedAt', 'updatedBy']);
    assert.equal(first.name, 'NPM_TOKEN');
    assert.equal(first.createdBy?.id, world.adminA.userId);

    const replaced = await put(world.owner.token, world.tenantA, 'NPM_TOKEN', 'npm-second-value-5678');
    expectStatus(replaced, 200);
    const second = replaced.body as Listed;
    assert.equal(second.createdAt, first.createdAt);
    assert.equal(second.createdBy?.id, world.adminA.userId, 'created by stays');
    assert.equal(second.updatedBy?.id, world.owner.userId);
    assert.ok(second.updatedAt >= first.updatedAt);

    const listed = await list(world.viewerA.token, world.tenantA);
    expectStatus(listed, 200);
    const page = listed.body as { items: Listed[]; nextCursor: string | null };
    assert.deepEqual(
      page.items.map((item) => item.name),
      ['NPM_TOKEN'],
    );
    assert.equal(page.items[0]!.updatedBy?.email.endsWith('@example.test'), true);
    for (const text of [created.text, replaced.text, listed.text]) assert.ok(!text.includes('value-'), text);
    assert.deepEqual(await readSecretValues(database.prisma, world.tenantA, ['NPM_TOKEN']), { NPM_TOKEN: 'npm-second-value-5678' });
  });

  test('delete: 204, then 404; a run no longer gets it', async () => {
    const { world, database } = context;
    expectStatus(await put(world.adminA.token, world.tenantA, 'SHORT_LIVED', 'short-lived-value'), 201);
    expectStatus(await remove(world.adminA.token, world.tenantA, 'SHORT_LIVED'), 204);
    assertError(await remove(world.adminA.token, world.tenantA, 'SHORT_LIVED'), 404, 'not_found');
    assertError(await remove(world.adminA.token, world.tenantA, 'not a name'), 404, 'not_found');
    assert.deepEqual(await readSecretValues(database.prisma, world.tenantA, ['SHORT_LIVED']), {});
  });

  test('secrets are per tenant: the same name in two tenants holds two values', async () => {
    const { world, database } = context;
    expectStatus(await put(world.owner.token, world.tenantA, 'SHARED_NAME', 'value-of-tenant-a'), 201);
    expectStatus(await put(world.owner.token, world.tenantB, 'SHARED_NAME', 'value-of-tenant-b'), 201);
    assert.deepEqual(await readSecretValues(database.prisma, world.tenantB, ['SHARED_NAME']), { SHARED_NAME: 'value-of-tenant-b' });
    const names = ((await list(world.outsider.token, world.tenantB)).body as { items: Listed[] }).items.map((item) => item.name);
    assert.deepEqual(names, ['SHARED_NAME']);
  });
});

describe('authorization', () => {
  test('a viewer lists but cannot set or delete; a member cannot set; 403 forbidden', async () => {
    const { world } = context;
    expectStatus(await list(world.viewerA.token, world.tenantA), 200);
    expectStatus(await list(world.memberA.token, world.tenantA), 200);
    assertError(await put(world.viewerA.token, world.tenantA, 'NPM_TOKEN', 'stolen-1234'), 403, 'forbidden');
    assertError(await put(world.memberA.token, world.tenantA, 'NPM_TOKEN', 'stolen-1234'), 403, 'forbidden');
    assertError(await remove(world.memberA.token, world.tenantA, 'NPM_TOKEN'), 403, 'forbidden');
  });

  test("another organization's tenant, or a tenant the caller is not a member of, is 404 for every method", async () => {
    const { world } = context;
    expectStatus(await put(world.otherOwner.token, world.otherTenant, 'OTHER_ORG', 'other-org-value'), 201);
    assertError(await list(world.owner.token, world.otherTenant), 404, 'not_found');
    assertError(await put(world.owner.token, world.otherTenant, 'OTHER_ORG', 'overwrite-1234'), 404, 'not_found');
    assertError(await remove(world.owner.token, world.otherTenant, 'OTHER_ORG'), 404, 'not_found');
    assertError(await list(world.adminA.token, world.tenantB), 404, 'not_found');
    assertError(await put(world.adminA.token, world.tenantB, 'X_NAME', 'value-1234'), 404, 'not_found');
  });

  test('a token without the secrets:write scope gets 403 insufficient_scope, even an owner’s; with it, it sets', async () => {
    const { world, database } = context;
    const readOnly = await createUserWithToken(database.prisma, {
      organizationId: world.orgId,
      orgRole: 'owner',
      scopes: ['read', 'pipelines:write', 'runs:trigger'],
    });
    expectStatus(await list(readOnly.token, world.tenantA), 200);
    assertError(await put(readOnly.token, world.tenantA, 'SCOPED', 'value-1234'), 403, 'insufficient_scope');
    assertError(await remove(readOnly.token, world.tenantA, 'NPM_TOKEN'), 403, 'insufficient_scope');
    const writer = await createUserWithToken(database.prisma, { organizationId: world.orgId, orgRole: 'owner', scopes: ['secrets:write'] });
    expectStatus(await put(writer.token, world.tenantA, 'SCOPED', 'value-1234'), 201);
  });

  test('no token: 401', async () => {
    const { world } = context;
    assertError(await call(secretsRoute.GET, 'GET', path(world.tenantA), { params: { tenantId: world.tenantA } }), 401, 'unauthenticated');
  });
});

describe('input', () => {
  test('names follow the pipeline language: letters, digits and _, not BUILDIT_ (422 that says why)', async () => {
    const { world } = context;
    for (const [name, reason] of [
      ['with-dash', 'letters, digits and `_`'],
      ['1LEADING_DIGIT', 'letters, digits and `_`'],
      ['BUILDIT_TOKEN', 'reserved'],
    ] as const) {
      const error = assertError(await put(world.adminA.token, world.tenantA, name, 'value-1234'), 422, 'validation_failed');
      assert.ok(error.message.startsWith(`invalid secret name "${name}"`) && error.message.includes(reason), error.message);
    }
    expectStatus(await put(world.adminA.token, world.tenantA, '_lower_case_9', 'value-1234'), 201);
  });

  test('values: 1 byte to 64 KiB of UTF-8 without NUL; anything else is a 422 that says why', async () => {
    const { world, database } = context;
    const largest = 'é'.repeat(MAX_SECRET_BYTES / 2);
    expectStatus(await put(world.adminA.token, world.tenantA, 'LARGE', largest), 201);
    assert.equal((await readSecretValues(database.prisma, world.tenantA, ['LARGE'])).LARGE, largest);
    for (const [value, message] of [
      [`${largest}x`, 'at most 65536 bytes'],
      ['', 'cannot be empty'],
      ['a\0b-value', 'NUL'],
      [42, 'string'],
    ] as const) {
      const error = assertError(await put(world.adminA.token, world.tenantA, 'LARGE', value), 422, 'validation_failed');
      assert.match(JSON.stringify(error.details), new RegExp(message), JSON.stringify(error.details));
    }
    const extra = await call(secretRoute.PUT, 'PUT', path(world.tenantA, 'LARGE'), {
      token: world.adminA.token,
      params: { tenantId: world.tenantA, name: 'LARGE' },
      body: { value: 'value-1234', name: 'OTHER' },
    });
    assertError(extra, 422, 'validation_failed');
  });
});

test('every set and delete writes one audit row with its actor and the name, never the value', async () => {
  const { world, database } = context;
  const value = `audited-${randomBytes(8).toString('hex')}`;
  const since = new Date();
  const set = await put(world.adminA.token, world.tenantA, 'AUDITED', value);
  expectStatus(set, 201);
  expectStatus(await put(world.adminA.token, world.tenantA, 'AUDITED', `${value}-2`), 200);
  expectStatus(await remove(world.owner.token, world.tenantA, 'AUDITED'), 204);
  const rows = await database.prisma.auditLog.findMany({
    where: { createdAt: { gte: since }, action: { startsWith: 'secret.' } },
    orderBy: { createdAt: 'asc' },
  });
  assert.deepEqual(
    rows.map((row) => [row.action, row.actorUserId, row.tenantId, row.targetType, row.details]),
    [
      ['secret.set', world.adminA.userId, world.tenantA, 'secret', { name: 'AUDITED', created: true }],
      ['secret.set', world.adminA.userId, world.tenantA, 'secret', { name: 'AUDITED', created: false }],
      ['secret.delete', world.owner.userId, world.tenantA, 'secret', { name: 'AUDITED' }],
    ],
  );
  assert.equal(new Set(rows.map((row) => row.targetId)).size, 1, 'the same secret');
  const everything = JSON.stringify(await database.prisma.auditLog.findMany());
  assert.ok(!everything.includes('audited-'), 'no value in any audit row');
});

test('the database at rest holds no secret value: pg_dump of it has none (plain, hex or base64)', async () => {
  const { world, database } = context;
  const values = [
    `plain-${randomBytes(12).toString('hex')}`,
    `-----BEGIN KEY-----\n${randomBytes(48).toString('base64')}\n${randomBytes(48).toString('base64')}\n-----END KEY-----\n`,
    `ünïcödé-${randomBytes(6).toString('hex')}`,
  ];
  for (const [index, value] of values.entries()) expectStatus(await put(world.adminA.token, world.tenantA, `AT_REST_${index}`, value), 201);
  assert.equal(await database.prisma.secret.count({ where: { name: { startsWith: 'AT_REST_' } } }), values.length);

  const dump = await dumpDatabase(database.url);
  assert.match(dump.text, /secrets/, 'the dump has the secrets table');
  for (const value of values) {
    const forms = [value, ...value.split('\n').filter((line) => line.length >= 8), Buffer.from(value).toString('hex'), Buffer.from(value).toString('base64')];
    for (const form of forms) assert.ok(!dump.text.includes(form), `${dump.tool} output contains ${JSON.stringify(form.slice(0, 20))}`);
  }
});
