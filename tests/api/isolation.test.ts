/**
 * Isolation, generated from the OpenAPI document so that a new route cannot escape it. Every operation of
 * buildOpenApiDocument() except the public ones (`security: []`) is called through its real route handler,
 * against a real PostgreSQL, by:
 *   - no credentials, a revoked token, an expired token and the cookie of a signed-out session: 401;
 *   - for writes, the owner's live session cookie sent from another site: 403 `cross_site` (CSRF);
 *   - the owner of another organization: 404 (a route that names nothing of ours, such as a list, answers
 *     without naming anything of ours);
 *   - a member of the organization who may not see the tenant: 404 (routes inside a tenant);
 *   - a viewer of the tenant: 403 on writes (except what users do for themselves: SELF_SERVICE), with a token
 *     and with a session cookie;
 *   - the owner with a token that lacks the scope: 403 `insufficient_scope` (`read` only, for writes; no scope
 *     at all, for reads: what a token whose stored scopes are all unknown is left with);
 *   - last, the owner (or whom the operation is for) with an `admin` token: allowed, neither 401, 403 nor 404.
 *     That proves the request names real resources, so the refusals above come from authorization.
 * Each operation gets fresh resources (a tenant with a pipeline, a running run, a member, ...), picked by path
 * parameter name from PATH_FIXTURES, and a body from BODIES (or `{}` when its schema takes it). A parameter or
 * a body without an entry fails the test and says what to add.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { buildOpenApiDocument } from '../../lib/api/openapi';
import type { HttpMethod } from '../../lib/api/operation';
import { operations } from '../../lib/api/schemas';
import { createApiKey } from '../../lib/auth/api-keys';
import type { Scope } from '../../lib/auth/authorize';
import { generateInvitationToken } from '../../lib/auth/invitations';
import { authSecret, sessionCookieName } from '../../lib/auth/session-cookie';
import { revokeSession, startSession } from '../../lib/auth/sessions';
import { hashToken } from '../../lib/auth/tokens';
import type { PrismaClient } from '../../lib/generated/prisma/client';
import { writeStateVersion } from '../../lib/stacks/state/versions';
import { encode } from 'next-auth/jwt';
import { call, createUserWithToken, insertPipeline, routeHandler, useApiWorld, VALID_KDL, type CallResult, type SeededUser } from './helpers';

// Setting a secret encrypts it, and session cookies are signed: keys of this test's own.
process.env.BUILDIT_SECRET_KEY = randomBytes(32).toString('base64');
process.env.BUILDIT_AUTH_SECRET = randomBytes(32).toString('base64url');

/** Tokens of the organization's owner that must be refused: revoked, expired, and lacking scopes. */
const ownerTokens = { revoked: '', expired: '', readOnly: '', noScope: '' };
/** Session cookies (`Cookie` headers): the owner's signed out, the owner's live, the viewer's live. */
const cookies = { signedOut: '', owner: '', viewer: '' };

async function sessionCookie(prisma: PrismaClient, userId: string, organizationId: string): Promise<{ header: string; sessionId: string }> {
  const started = await startSession(prisma, { userId, provider: 'password', origin: null });
  assert.equal(started?.organizationId, organizationId);
  const token = await encode({ token: { sid: started!.sessionId }, secret: authSecret() });
  return { header: `${sessionCookieName()}=${token}`, sessionId: started!.sessionId };
}

const api = useApiWorld(async ({ database: { prisma }, world }) => {
  const ownerToken = async (name: string, scopes: Scope[], expiresAt: Date | null = null) =>
    (await createApiKey(prisma, { organizationId: world.orgId, userId: world.owner.userId, name, scopes, expiresAt })).token;
  ownerTokens.revoked = await ownerToken('revoked', ['admin']);
  await prisma.apiKey.updateMany({ where: { name: 'revoked', userId: world.owner.userId }, data: { revokedAt: new Date() } });
  ownerTokens.expired = await ownerToken('expired', ['admin'], new Date(Date.now() - 1000));
  ownerTokens.readOnly = await ownerToken('read only', ['read']);
  ownerTokens.noScope = await ownerToken('no scope', []);
  const signedOut = await sessionCookie(prisma, world.owner.userId, world.orgId);
  await revokeSession(prisma, signedOut.sessionId);
  cookies.signedOut = signedOut.header;
  cookies.owner = (await sessionCookie(prisma, world.owner.userId, world.orgId)).header;
  cookies.viewer = (await sessionCookie(prisma, world.viewerA.userId, world.orgId)).header;
});

/** Fresh resources for one operation: the tenant holds all of them; the world's viewer is a viewer there, its outsider nothing. */
interface Scene {
  tenantId: string;
  pipelineId: string;
  runId: string;
  stageRunId: string;
  secretName: string;
  /** A member of the organization and of the tenant. */
  member: SeededUser;
  invitationId: string;
  invitationToken: string;
  /** The user the invitation is for: a member of the other organization, with its token. */
  invitee: SeededUser;
  /** A service token of the organization. */
  serviceTokenId: string;
  /** A stack with a variable named like the secret, a planned apply run, a state version and an environment. */
  stackId: string;
  stackRunId: string;
  stateVersionId: string;
  environmentId: string;
}

let counter = 0;
const unique = (base: string) => `${base}-${++counter}`;

async function newScene(): Promise<Scene> {
  const { prisma } = api.database;
  const { world } = api;
  const tenant = await prisma.tenant.create({ data: { organizationId: world.orgId, slug: unique('isolation'), name: 'Isolation' } });
  await prisma.tenantMembership.create({ data: { tenantId: tenant.id, userId: world.viewerA.userId, role: 'viewer' } });
  const member = await createUserWithToken(prisma, { organizationId: world.orgId, orgRole: 'member', tenantRoles: { [tenant.id]: 'member' } });
  const pipelineId = await insertPipeline(prisma, tenant.id, VALID_KDL);
  await prisma.pipeline.update({ where: { id: pipelineId }, data: { nextRunNumber: 2 } });
  const run = await prisma.pipelineRun.create({
    data: { pipelineId, number: 1, status: 'running', event: 'manual', branch: 'main', plan: { stages: [{ id: 'build' }] }, configSource: VALID_KDL },
  });
  const stage = await prisma.stageRun.create({ data: { runId: run.id, stageId: 'build', name: 'build', status: 'running' } });
  const secret = await prisma.secret.create({
    data: { tenantId: tenant.id, name: 'ISOLATION', ciphertext: Buffer.alloc(16), iv: Buffer.alloc(12), authTag: Buffer.alloc(16), keyId: 'unused' },
  });
  const invitee = await createUserWithToken(prisma, { organizationId: world.otherOrgId, orgRole: 'member' });
  const { email } = await prisma.user.findUniqueOrThrow({ where: { id: invitee.userId } });
  const invitationToken = generateInvitationToken();
  const invitation = await prisma.invitation.create({
    data: { organizationId: world.orgId, email, tokenHash: hashToken(invitationToken), expiresAt: new Date(Date.now() + 3_600_000) },
  });
  const service = await createApiKey(prisma, { organizationId: world.orgId, service: true, name: unique('service'), scopes: ['read'] });
  const stack = await prisma.stack.create({
    data: { tenantId: tenant.id, name: 'isolation', slug: 'isolation', repository: 'https://git.example.test/infra.git' },
  });
  await prisma.stackVariable.create({ data: { stackId: stack.id, name: secret.name, value: 'x' } });
  const stackRun = await prisma.stackRun.create({
    data: { stackId: stack.id, number: 1, kind: 'apply', event: 'api', status: 'planned', planStateVersion: 1 },
  });
  const state = JSON.stringify({ version: 4, serial: 1, lineage: 'isolation', outputs: {}, resources: [] });
  const stateVersion = await prisma.$transaction((tx) => writeStateVersion(tx, stack, state, { runId: stackRun.id }));
  const environment = await prisma.environment.create({ data: { tenantId: tenant.id, name: 'isolation', stackId: stack.id } });
  return {
    tenantId: tenant.id,
    pipelineId,
    runId: run.id,
    stageRunId: stage.id,
    secretName: secret.name,
    member,
    invitationId: invitation.id,
    invitationToken,
    invitee,
    serviceTokenId: service.apiKey.id,
    stackId: stack.id,
    stackRunId: stackRun.id,
    stateVersionId: stateVersion.id,
    environmentId: environment.id,
  };
}

/** Path parameter name → the resource of the scene it names; `inTenant` when the resource lives in the scene's tenant. */
const PATH_FIXTURES: Record<string, { inTenant: boolean; of: (scene: Scene) => string }> = {
  organizationId: { inTenant: false, of: () => api.world.orgId },
  userId: { inTenant: false, of: (scene) => scene.member.userId },
  invitationId: { inTenant: false, of: (scene) => scene.invitationId },
  token: { inTenant: false, of: (scene) => scene.invitationToken },
  tokenId: { inTenant: false, of: (scene) => scene.serviceTokenId },
  tenantId: { inTenant: true, of: (scene) => scene.tenantId },
  pipelineId: { inTenant: true, of: (scene) => scene.pipelineId },
  runId: { inTenant: true, of: (scene) => scene.runId },
  stageRunId: { inTenant: true, of: (scene) => scene.stageRunId },
  name: { inTenant: true, of: (scene) => scene.secretName },
  stackId: { inTenant: true, of: (scene) => scene.stackId },
  stackRunId: { inTenant: true, of: (scene) => scene.stackRunId },
  stateVersionId: { inTenant: true, of: (scene) => scene.stateVersionId },
  environmentId: { inTenant: true, of: (scene) => scene.environmentId },
};

/** A valid body for each operation whose body schema does not take `{}` (made anew per call: names stay unique). */
const BODIES: Record<string, () => unknown> = {
  createOrganization: () => ({ name: unique('Isolated organization') }),
  updateOrganization: () => ({ name: 'Isolated' }),
  updateMember: () => ({ role: 'member' }),
  createInvitation: () => ({ email: `${unique('isolation')}@example.test` }),
  createTenant: () => ({ name: unique('Isolated tenant') }),
  updateTenant: () => ({ name: 'Renamed' }),
  setTenantMember: () => ({ role: 'viewer' }),
  createPipeline: () => ({ name: unique('isolated'), config: VALID_KDL }),
  updatePipeline: () => ({ name: 'renamed' }),
  setSecret: () => ({ value: 'isolated value' }),
  setWebhookStatusToken: () => ({ statusTokenSecret: 'FORGE_TOKEN' }),
  createToken: () => ({ name: unique('isolation'), scopes: ['admin'] }),
  createStack: () => ({ name: unique('isolated stack') }),
  updateStack: () => ({ autoApply: false }),
  setStackVariable: () => ({ value: 'isolated' }),
};

/**
 * What users do for themselves (docs/permissions.md), where a viewer's write is not refused with 403: what
 * the viewer gets instead, and whom the operation is for when not the owner.
 */
const SELF_SERVICE: Record<string, { viewer: number; caller?: (scene: Scene) => SeededUser; why: string }> = {
  createOrganization: { viewer: 201, why: 'any user creates an organization and owns it' },
  acceptInvitation: {
    viewer: 404,
    caller: (scene) => scene.invitee,
    why: 'an invitation is for the user with its email; for anyone else it does not exist',
  },
  revokeToken: { viewer: 404, why: 'a user sees their own tokens, and organization admins its service tokens; no other token exists for them' },
};

interface Route {
  apiPath: string;
  method: HttpMethod;
  operationId: string;
}

const document = buildOpenApiDocument() as { paths: Record<string, Record<string, { operationId: string; security?: unknown[] }>> };
const ROUTES: Route[] = Object.entries(document.paths).flatMap(([apiPath, methods]) =>
  Object.entries(methods)
    .filter(([, operation]) => !(Array.isArray(operation.security) && operation.security.length === 0))
    .map(([method, operation]) => ({ apiPath, method: method.toUpperCase() as HttpMethod, operationId: operation.operationId })),
);

function bodyFor(operationId: string): unknown {
  const schema = operations.find((operation) => operation.operationId === operationId)?.body;
  if (!schema) return undefined;
  const make = BODIES[operationId];
  if (!make) {
    assert.ok(schema.safeParse({}).success, `${operationId} needs a body: add a minimal valid one to BODIES in tests/api/isolation.test.ts`);
    return {};
  }
  const body = make();
  const parsed = schema.safeParse(body);
  assert.ok(parsed.success, `BODIES.${operationId} no longer fits the operation's body schema: ${JSON.stringify(parsed.error?.issues)}`);
  return body;
}

function paramsFor(route: Route, scene: Scene): Record<string, string> {
  const names = [...route.apiPath.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);
  const missing = names.filter((name) => !Object.hasOwn(PATH_FIXTURES, name));
  assert.deepEqual(
    missing,
    [],
    `no fixture for path parameter(s) ${missing.join(', ')} of ${route.method} ${route.apiPath}: add them to PATH_FIXTURES (and Scene) in tests/api/isolation.test.ts`,
  );
  return Object.fromEntries(names.map((name) => [name, PATH_FIXTURES[name]!.of(scene)]));
}

/** Every id of the seeded organization and of the scene, which no answer to another organization may contain. */
function idsOfOurs(scene: Scene): string[] {
  const { world } = api;
  const users = [world.owner, world.adminA, world.memberA, world.viewerA, world.outsider, scene.member];
  return [
    world.orgId,
    world.tenantA,
    world.tenantB,
    ...users.flatMap((user) => [user.userId, user.apiKeyId]),
    scene.tenantId,
    scene.pipelineId,
    scene.runId,
    scene.stageRunId,
    scene.invitationId,
    scene.serviceTokenId,
    scene.stackId,
    scene.stackRunId,
    scene.stateVersionId,
    scene.environmentId,
  ];
}

/** A response for a failure message: a list of every token of the organization says nothing more after its start. */
const excerpt = (result: CallResult) => `${result.status}: ${result.text.length > 300 ? `${result.text.slice(0, 300)}...` : result.text}`;

function expectRefused(result: CallResult, status: number, code: string, who: string): void {
  const error = (result.body as { error?: { code?: string } } | null)?.error;
  assert.ok(result.status === status && error?.code === code, `${who}: expected ${status} ${code}, got ${excerpt(result)}`);
}

const WRITE_METHODS: readonly HttpMethod[] = ['POST', 'PUT', 'PATCH', 'DELETE'];

test('the document has routes to check, and every exception names one of them', () => {
  assert.ok(ROUTES.length >= 30, `only ${ROUTES.length} routes in the document`);
  const ids = new Set(ROUTES.map((route) => route.operationId));
  const stale = [...Object.keys(BODIES), ...Object.keys(SELF_SERVICE)].filter((id) => !ids.has(id));
  assert.deepEqual(stale, [], `BODIES or SELF_SERVICE name operations that no longer exist: remove ${stale.join(', ')}`);
});

for (const route of ROUTES) {
  test(`${route.method} ${route.apiPath} (${route.operationId})`, async () => {
    const scene = await newScene();
    const params = paramsFor(route, scene);
    const handler = await routeHandler(route.method, route.apiPath);
    const url = route.apiPath.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name]!));
    const request = (token: string | null) => call(handler, route.method, url, { token, params, body: bodyFor(route.operationId) });
    const withCookie = (cookie: string, origin: string) =>
      call(handler, route.method, url, { params, body: bodyFor(route.operationId), headers: { cookie, origin, host: 'localhost' } });
    const { world } = api;
    const write = WRITE_METHODS.includes(route.method);
    const selfService = SELF_SERVICE[route.operationId];

    expectRefused(await request(null), 401, 'unauthenticated', 'no credentials');
    expectRefused(await request(ownerTokens.revoked), 401, 'invalid_token', 'a revoked token');
    expectRefused(await request(ownerTokens.expired), 401, 'invalid_token', 'an expired token');
    expectRefused(await withCookie(cookies.signedOut, 'http://localhost'), 401, 'invalid_token', 'the cookie of a signed-out session');

    const stranger = await request(world.otherOwner.token);
    if (Object.keys(params).length > 0) expectRefused(stranger, 404, 'not_found', 'the owner of another organization');
    else {
      assert.ok(stranger.status < 500, `the owner of another organization: ${excerpt(stranger)}`);
      const leaked = idsOfOurs(scene).filter((id) => stranger.text.includes(id));
      assert.deepEqual(leaked, [], `the owner of another organization was answered with ids of ours: ${excerpt(stranger)}`);
    }

    if (Object.keys(params).some((name) => PATH_FIXTURES[name]!.inTenant)) {
      expectRefused(await request(world.outsider.token), 404, 'not_found', 'a member of the organization without access to the tenant');
    }

    if (write) {
      const viewer = await request(world.viewerA.token);
      if (selfService) assert.equal(viewer.status, selfService.viewer, `a viewer (${selfService.why}): ${excerpt(viewer)}`);
      else {
        expectRefused(viewer, 403, 'forbidden', 'a viewer of the tenant');
        expectRefused(await withCookie(cookies.viewer, 'http://localhost'), 403, 'forbidden', 'a viewer of the tenant, signed in');
      }
      expectRefused(await withCookie(cookies.owner, 'http://evil.example'), 403, 'cross_site', 'the owner signed in, from another site');
    }

    expectRefused(
      await request(write ? ownerTokens.readOnly : ownerTokens.noScope),
      403,
      'insufficient_scope',
      `a token with ${write ? 'only `read`' : 'no scope'}`,
    );

    const caller = selfService?.caller?.(scene) ?? world.owner;
    const allowed = await request(caller.token);
    assert.ok(
      ![401, 403, 404].includes(allowed.status) && allowed.status < 500,
      `the owner (or whom the operation is for), allowed, got ${excerpt(allowed)}. A fixture names nothing real, or the route refuses everyone`,
    );
  });
}
