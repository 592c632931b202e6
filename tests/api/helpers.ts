/**
 * Test support for the /api/v1 route handlers: a fresh migrated database per test file (real PostgreSQL),
 * handlers pointed at it with setPrismaForTests, a seeded world of two organizations, tenants, users with
 * each role and their tokens, and `call()` that invokes an exported route handler with a real Request.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before } from 'node:test';
import { pathToFileURL } from 'node:url';
import { setPrismaForTests } from '../../lib/api/db';
import type { HttpMethod } from '../../lib/api/operation';
import type { RouteHandler } from '../../lib/api/with-api';
import { createApiKey } from '../../lib/auth/api-keys';
import type { Scope } from '../../lib/auth/authorize';
import type { PrismaClient } from '../../lib/generated/prisma/client';
import type { OrgRole, TenantRole } from '../../lib/generated/prisma/enums';
import { createTestDatabase, type TestDatabase } from '../support/db';

export const VALID_KDL = `pipeline "demo" {
    on "push" branches="main"
    on "manual"
}

stage "build" {
    image "alpine:3.20"
    run "echo build \${run.number}"
}

stage "test" needs="build" {
    image "alpine:3.20"
    run "echo test"
}

stage "deploy" needs="test" {
    image "alpine:3.20"
    run "echo deploy"
    when branch="main"
}
`;

/** Two errors: line 2 column 7 (a stage with nothing to do) and line 3 column 3 (unknown node). */
export const INVALID_KDL = 'pipeline "x"\nstage "a" {\n  imag "x"\n}\n';

export async function setupApiDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase();
  setPrismaForTests(database.prisma);
  return database;
}

export async function teardownApiDatabase(database: TestDatabase | undefined): Promise<void> {
  setPrismaForTests(null);
  await database?.drop();
}

export interface ApiTestContext {
  database: TestDatabase;
  world: World;
}

/**
 * For a test file: registers the hooks that make its database and seed the world, then run `setup` in the
 * same hook (a second top-level `before` in the file found the context still empty under node 20).
 */
export function useApiWorld(setup?: (context: ApiTestContext) => Promise<void>): ApiTestContext {
  const context = {} as ApiTestContext;
  before(async () => {
    context.database = await setupApiDatabase();
    context.world = await seedWorld(context.database.prisma);
    await setup?.(context);
  });
  after(() => teardownApiDatabase(context.database));
  return context;
}

/** A pipeline row written directly (no API call), with a unique slug. */
export async function insertPipeline(prisma: PrismaClient, tenantId: string, config: string): Promise<string> {
  const pipeline = await prisma.pipeline.create({ data: { tenantId, name: 'p', slug: unique('p'), config } });
  return pipeline.id;
}

let counter = 0;
const unique = (base: string) => `${base}-${process.pid}-${++counter}`;

export interface SeededUser {
  userId: string;
  token: string;
  apiKeyId: string;
}

export async function createUserWithToken(
  prisma: PrismaClient,
  options: {
    organizationId: string;
    orgRole?: OrgRole;
    tenantRoles?: Record<string, TenantRole>;
    scopes?: Scope[];
    tenantRestriction?: string;
    expiresAt?: Date;
  },
): Promise<SeededUser> {
  const user = await prisma.user.create({ data: { email: `${unique('user')}@example.test` } });
  if (options.orgRole) await prisma.orgMembership.create({ data: { organizationId: options.organizationId, userId: user.id, role: options.orgRole } });
  for (const [tenantId, role] of Object.entries(options.tenantRoles ?? {})) {
    await prisma.tenantMembership.create({ data: { tenantId, userId: user.id, role } });
  }
  const { token, apiKey } = await createApiKey(prisma, {
    organizationId: options.organizationId,
    userId: user.id,
    name: 'test',
    scopes: options.scopes ?? ['admin'],
    tenantId: options.tenantRestriction ?? null,
    expiresAt: options.expiresAt ?? null,
  });
  return { userId: user.id, token, apiKeyId: apiKey.id };
}

export interface World {
  orgId: string;
  otherOrgId: string;
  tenantA: string;
  tenantB: string;
  otherTenant: string;
  owner: SeededUser;
  adminA: SeededUser;
  memberA: SeededUser;
  viewerA: SeededUser;
  outsider: SeededUser;
  /** Owner of the other organization. */
  otherOwner: SeededUser;
}

export async function seedWorld(prisma: PrismaClient): Promise<World> {
  const org = await prisma.organization.create({ data: { slug: unique('org'), name: 'Org' } });
  const otherOrg = await prisma.organization.create({ data: { slug: unique('other'), name: 'Other org' } });
  const tenantA = await prisma.tenant.create({ data: { organizationId: org.id, slug: 'a', name: 'A' } });
  const tenantB = await prisma.tenant.create({ data: { organizationId: org.id, slug: 'b', name: 'B' } });
  const otherTenant = await prisma.tenant.create({ data: { organizationId: otherOrg.id, slug: 'x', name: 'X' } });
  return {
    orgId: org.id,
    otherOrgId: otherOrg.id,
    tenantA: tenantA.id,
    tenantB: tenantB.id,
    otherTenant: otherTenant.id,
    owner: await createUserWithToken(prisma, { organizationId: org.id, orgRole: 'owner' }),
    adminA: await createUserWithToken(prisma, { organizationId: org.id, orgRole: 'member', tenantRoles: { [tenantA.id]: 'admin' } }),
    memberA: await createUserWithToken(prisma, { organizationId: org.id, orgRole: 'member', tenantRoles: { [tenantA.id]: 'member' } }),
    viewerA: await createUserWithToken(prisma, { organizationId: org.id, orgRole: 'member', tenantRoles: { [tenantA.id]: 'viewer' } }),
    outsider: await createUserWithToken(prisma, { organizationId: org.id, orgRole: 'member', tenantRoles: { [tenantB.id]: 'admin' } }),
    otherOwner: await createUserWithToken(prisma, { organizationId: otherOrg.id, orgRole: 'owner' }),
  };
}

export interface CallOptions {
  token?: string | null;
  body?: unknown;
  /** Raw body text (sent as is, for malformed-body tests). */
  rawBody?: string | Uint8Array | ReadableStream<Uint8Array>;
  headers?: Record<string, string>;
  params?: Record<string, string>;
  query?: Record<string, string>;
}

export interface CallResult {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

/** The handler a route file exports for `method` at an OpenAPI path (`{id}` segments are `[id]` directories). */
export async function routeHandler(method: HttpMethod, apiPath: string): Promise<RouteHandler> {
  const file = resolve(import.meta.dirname, '../../app', '.' + apiPath.replace(/\{(\w+)\}/g, '[$1]'), 'route.ts');
  const module = (await import(pathToFileURL(file).href)) as Partial<Record<HttpMethod, RouteHandler>>;
  const handler = module[method];
  assert.ok(handler, `${file} exports no ${method}`);
  return handler;
}

/** Invokes a route handler the way Next does: a Request plus `{ params: Promise<...> }`. */
export async function call(handler: RouteHandler, method: string, path: string, options: CallOptions = {}): Promise<CallResult> {
  const url = new URL(path, 'http://localhost');
  for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
  const headers = new Headers(options.headers);
  if (options.token) headers.set('authorization', `Bearer ${options.token}`);
  let body: BodyInit | undefined;
  if (options.rawBody !== undefined) body = options.rawBody as BodyInit;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  const init: RequestInit & { duplex?: 'half' } = { method, headers, body };
  if (body instanceof ReadableStream) init.duplex = 'half';
  const response = await handler(new Request(url, init), { params: Promise.resolve(options.params ?? {}) });
  const text = await response.text();
  let parsed: unknown = null;
  if ((response.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** Asserts the status and the error shape `{"error": {"code", "message", "details"}}`. */
export function assertError(result: CallResult, status: number, code: string): { code: string; message: string; details: unknown } {
  assert.equal(result.status, status, `expected ${status} ${code}, got ${result.status}: ${result.text}`);
  const body = result.body as { error?: { code?: unknown; message?: unknown; details?: unknown } };
  assert.ok(body && typeof body === 'object' && body.error, `no error body: ${result.text}`);
  assert.equal(body.error.code, code, result.text);
  assert.equal(typeof body.error.message, 'string');
  assert.ok('details' in body.error, 'error.details is always present');
  return body.error as { code: string; message: string; details: unknown };
}

export function expectStatus(result: CallResult, status: number): void {
  assert.equal(result.status, status, `expected ${status}, got ${result.status}: ${result.text}`);
}
