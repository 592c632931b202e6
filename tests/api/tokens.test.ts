/**
 * API tokens through the real route handlers on a real PostgreSQL: shown once and stored as a hash, never
 * more rights than their creator, tenant restriction, revocation and expiry (401 at once), last use, and
 * organization service tokens.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as pipelineRunsRoute from '../../app/api/v1/pipelines/[pipelineId]/runs/route';
import * as tenantPipelinesRoute from '../../app/api/v1/tenants/[tenantId]/pipelines/route';
import * as tenantsRoute from '../../app/api/v1/tenants/route';
import * as revokeRoute from '../../app/api/v1/tokens/[tokenId]/revoke/route';
import * as tokensRoute from '../../app/api/v1/tokens/route';
import type { CreatedToken, Token } from '../../lib/api/schemas/tokens';
import { hashToken } from '../../lib/auth/tokens';
import { assertError, call, createUserWithToken, expectStatus, insertPipeline, useApiWorld, VALID_KDL, type CallOptions } from './helpers';

const api = useApiWorld();

function createToken(token: string, body: Record<string, unknown>, options: CallOptions = {}) {
  return call(tokensRoute.POST, 'POST', '/api/v1/tokens', { token, body, ...options });
}

async function created(token: string, body: Record<string, unknown>): Promise<CreatedToken> {
  const result = await createToken(token, { name: 'test', ...body });
  expectStatus(result, 201);
  return result.body as CreatedToken;
}

async function listTokens(token: string): Promise<Token[]> {
  const result = await call(tokensRoute.GET, 'GET', '/api/v1/tokens', { token });
  expectStatus(result, 200);
  return (result.body as { items: Token[] }).items;
}

function revoke(token: string, tokenId: string) {
  return call(revokeRoute.POST, 'POST', `/api/v1/tokens/${tokenId}/revoke`, { token, params: { tokenId } });
}

const listTenants = (token: string) => call(tenantsRoute.GET, 'GET', '/api/v1/tenants', { token });

describe('creating tokens', () => {
  test('the token is in the answer once; only its hash is stored; it works at once', async () => {
    const { owner } = api.world;
    const result = await created(owner.token, { name: 'ci', scopes: ['read', 'runs:trigger'] });
    assert.match(result.token, /^bk_[A-Za-z0-9_-]{43}$/);
    assert.equal(result.prefix, result.token.slice(0, 12));
    assert.deepEqual(
      { kind: result.kind, userId: result.userId, scopes: result.scopes, tenantId: result.tenantId, expiresAt: result.expiresAt },
      { kind: 'personal', userId: owner.userId, scopes: ['read', 'runs:trigger'], tenantId: null, expiresAt: null },
    );

    const row = await api.database.prisma.apiKey.findUniqueOrThrow({ where: { id: result.id } });
    assert.equal(row.hash, hashToken(result.token));
    assert.ok(!JSON.stringify(row).includes(result.token), 'the token itself is stored nowhere');

    const listed = (await listTokens(owner.token)).find((token) => token.id === result.id);
    assert.ok(listed, 'listed');
    assert.ok(!('token' in listed), 'a list never shows the token');
    assert.ok(!JSON.stringify(listed).includes(result.token));

    expectStatus(await listTenants(result.token), 200);
  });

  test('scopes beyond the creator role are refused with 403 and a message naming them; nothing is created', async () => {
    const { viewerA, memberA, adminA, tenantA } = api.world;
    const before = await api.database.prisma.apiKey.count();

    const viewer = assertError(await createToken(viewerA.token, { name: 'x', scopes: ['read', 'secrets:write'] }), 403, 'forbidden');
    assert.match(viewer.message, /^your role allows nothing that the scope secrets:write would grant: a token never has more rights than its owner$/);
    assert.deepEqual(viewer.details, { action: 'token.create', scopes: ['secrets:write'] });

    assertError(await createToken(memberA.token, { name: 'x', scopes: ['pipelines:write'] }), 403, 'forbidden');
    const admin = assertError(await createToken(adminA.token, { name: 'x', scopes: ['admin', 'runs:trigger'] }), 403, 'forbidden');
    assert.match(admin.message, /scope admin\b/, 'a tenant admin is no organization admin');
    assert.equal(await api.database.prisma.apiKey.count(), before);

    // What the role allows is granted.
    await created(viewerA.token, { scopes: ['read'] });
    await created(memberA.token, { scopes: ['runs:trigger'] });
    await created(adminA.token, { scopes: ['pipelines:write', 'secrets:write'], tenantId: tenantA });
  });

  test('a token creates no token with more than itself: scopes, tenant', async () => {
    const { owner, orgId, tenantA, tenantB } = api.world;
    const readOnly = await createUserWithToken(api.database.prisma, { organizationId: orgId, orgRole: 'owner', scopes: ['read'] });
    const beyond = assertError(await createToken(readOnly.token, { name: 'x', scopes: ['runs:trigger'] }), 403, 'insufficient_scope');
    assert.match(beyond.message, /the API token you are using does not allow the scope runs:trigger/);
    await created(readOnly.token, { scopes: ['read'] });

    const restricted = await created(owner.token, { scopes: ['read', 'pipelines:write'], tenantId: tenantA });
    const inherited = await created(restricted.token, { scopes: ['read'] });
    assert.equal(inherited.tenantId, tenantA, 'a restricted token creates tokens restricted to its tenant');
    assertError(await createToken(restricted.token, { name: 'x', scopes: ['read'], tenantId: tenantB }), 403, 'forbidden');
    // `admin` is the organization's administration, which a token restricted to one tenant cannot do.
    const admin = assertError(await createToken(owner.token, { name: 'x', scopes: ['admin'], tenantId: tenantA }), 403, 'forbidden');
    assert.match(admin.message, /scope admin would grant in that tenant/);
  });

  test('a tenant the creator cannot see is 404; expiry in the past and unknown scopes are 422', async () => {
    const { adminA, tenantB, otherTenant, owner } = api.world;
    assertError(await createToken(adminA.token, { name: 'x', scopes: ['read'], tenantId: tenantB }), 404, 'not_found');
    assertError(await createToken(owner.token, { name: 'x', scopes: ['read'], tenantId: otherTenant }), 404, 'not_found');
    assertError(
      await createToken(owner.token, { name: 'x', scopes: ['read'], expiresAt: new Date(Date.now() - 1000).toISOString() }),
      422,
      'validation_failed',
    );
    assertError(await createToken(owner.token, { name: 'x', scopes: ['write'] }), 422, 'validation_failed');
    assertError(await createToken(owner.token, { name: 'x', scopes: [] }), 422, 'validation_failed');
    assertError(await createToken(owner.token, { name: 'x', scopes: ['read', 'read'] }), 422, 'validation_failed');
  });
});

describe('using tokens', () => {
  test('a token restricted to a tenant sees only that tenant', async () => {
    const { owner, tenantA, tenantB } = api.world;
    const restricted = await created(owner.token, { scopes: ['read', 'pipelines:write'], tenantId: tenantA });
    const tenants = await listTenants(restricted.token);
    assert.deepEqual(
      (tenants.body as { items: Array<{ id: string }> }).items.map((tenant) => tenant.id),
      [tenantA],
    );
    const create = (tenantId: string) =>
      call(tenantPipelinesRoute.POST, 'POST', '/', { token: restricted.token, params: { tenantId }, body: { name: 'restricted', config: VALID_KDL } });
    assertError(await create(tenantB), 404, 'not_found');
    expectStatus(await create(tenantA), 201);
  });

  test('a revoked token answers 401 at once; revoking twice is 409', async () => {
    const { memberA } = api.world;
    const token = await created(memberA.token, { scopes: ['read'] });
    expectStatus(await listTenants(token.token), 200);

    const revoked = await revoke(memberA.token, token.id);
    expectStatus(revoked, 200);
    assert.ok((revoked.body as Token).revokedAt);
    assert.match(assertError(await listTenants(token.token), 401, 'invalid_token').message, /revoked/);
    assertError(await revoke(memberA.token, token.id), 409, 'token_revoked');
  });

  test('a token revokes only tokens with no more rights than itself (itself too); tokens of other users are 404', async () => {
    const { memberA, viewerA } = api.world;
    const trigger = await created(memberA.token, { scopes: ['runs:trigger'] });
    const readOnly = await created(memberA.token, { scopes: ['read'] });
    assertError(await revoke(readOnly.token, trigger.id), 403, 'insufficient_scope');
    assertError(await revoke(viewerA.token, trigger.id), 404, 'not_found');
    expectStatus(await revoke(trigger.token, readOnly.id), 200);
    expectStatus(await revoke(trigger.token, trigger.id), 200);
  });

  test('an expired token answers 401', async () => {
    const { memberA } = api.world;
    const token = await created(memberA.token, { scopes: ['read'], expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    expectStatus(await listTenants(token.token), 200);
    await api.database.prisma.apiKey.update({ where: { id: token.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    assert.match(assertError(await listTenants(token.token), 401, 'invalid_token').message, /expired/);
  });

  test('the time and address of the last use are recorded (a new address at once)', async () => {
    const { memberA } = api.world;
    const token = await created(memberA.token, { scopes: ['read'] });
    assert.equal(token.lastUsedAt, null);
    const started = Date.now();
    await call(tenantsRoute.GET, 'GET', '/api/v1/tenants', { token: token.token, headers: { 'x-forwarded-for': '203.0.113.7, 10.0.0.1' } });
    const first = await api.database.prisma.apiKey.findUniqueOrThrow({ where: { id: token.id } });
    assert.equal(first.lastUsedIp, '203.0.113.7');
    assert.ok(first.lastUsedAt && first.lastUsedAt.getTime() >= started - 5 && first.lastUsedAt.getTime() <= Date.now());

    await call(tenantsRoute.GET, 'GET', '/api/v1/tenants', { token: token.token, headers: { 'x-forwarded-for': '198.51.100.2' } });
    const listed = (await listTokens(memberA.token)).find((t) => t.id === token.id);
    assert.equal(listed?.lastUsedIp, '198.51.100.2');
  });
});

describe('service tokens', () => {
  test('organization admins create them; they act for no user, within their scopes, and outlive their creator', async () => {
    const { prisma } = api.database;
    const { orgId, tenantA, memberA, adminA } = api.world;
    const admin = await createUserWithToken(prisma, { organizationId: orgId, orgRole: 'admin' });
    assertError(await createToken(adminA.token, { name: 'x', kind: 'service', scopes: ['read'] }), 403, 'forbidden');

    const service = await created(admin.token, { name: 'deployer', kind: 'service', scopes: ['runs:trigger'] });
    assert.equal(service.kind, 'service');
    assert.equal(service.userId, null);
    const row = await prisma.apiKey.findUniqueOrThrow({ where: { id: service.id } });
    assert.deepEqual({ service: row.service, userId: row.userId }, { service: true, userId: null });

    // Only organization admins see (and may revoke) service tokens.
    assert.ok((await listTokens(admin.token)).some((token) => token.id === service.id));
    assert.ok(!(await listTokens(memberA.token)).some((token) => token.id === service.id));
    assertError(await revoke(adminA.token, service.id), 404, 'not_found');

    // Its creator leaves the organization: the token keeps working, as an org admin narrowed by its scopes.
    await prisma.orgMembership.delete({ where: { organizationId_userId: { organizationId: orgId, userId: admin.userId } } });
    const pipelineId = await insertPipeline(prisma, tenantA, VALID_KDL);
    const run = await call(pipelineRunsRoute.POST, 'POST', '/', { token: service.token, params: { pipelineId }, body: {} });
    expectStatus(run, 201);
    const audit = await prisma.auditLog.findFirstOrThrow({ where: { action: 'run.trigger', targetId: (run.body as { id: string }).id } });
    assert.deepEqual({ user: audit.actorUserId, token: audit.actorApiKeyId }, { user: null, token: service.id });
    const write = call(tenantPipelinesRoute.POST, 'POST', '/', {
      token: service.token,
      params: { tenantId: tenantA },
      body: { name: 'svc', config: VALID_KDL },
    });
    assertError(await write, 403, 'insufficient_scope');

    // It has no user to create personal tokens for.
    assertError(await createToken(service.token, { name: 'x', scopes: ['read'] }), 403, 'forbidden');
  });

  test('a service token restricted to a tenant sees only that tenant; the owner revokes it', async () => {
    const { owner, tenantB } = api.world;
    const service = await created(owner.token, { kind: 'service', scopes: ['read'], tenantId: tenantB });
    assert.deepEqual(
      ((await listTenants(service.token)).body as { items: Array<{ id: string }> }).items.map((tenant) => tenant.id),
      [tenantB],
    );
    expectStatus(await revoke(owner.token, service.id), 200);
    assertError(await listTenants(service.token), 401, 'invalid_token');
  });
});
