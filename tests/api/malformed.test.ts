/**
 * A battery of malformed requests against every route: each must get a 4xx with the error shape,
 * never a 500 and never a database error.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as runsRoute from '../../app/api/v1/pipelines/[pipelineId]/runs/route';
import * as pipelineRoute from '../../app/api/v1/pipelines/[pipelineId]/route';
import * as cancelRoute from '../../app/api/v1/runs/[runId]/cancel/route';
import * as runRoute from '../../app/api/v1/runs/[runId]/route';
import * as logsRoute from '../../app/api/v1/runs/[runId]/stages/[stageRunId]/logs/route';
import * as tenantPipelinesRoute from '../../app/api/v1/tenants/[tenantId]/pipelines/route';
import * as tenantRoute from '../../app/api/v1/tenants/[tenantId]/route';
import * as tenantsRoute from '../../app/api/v1/tenants/route';
import { MAX_BODY_BYTES, type RouteHandler } from '../../lib/api/with-api';
import { assertError, call, createUserWithToken, insertPipeline, useApiWorld, VALID_KDL } from './helpers';

let pipelineId: string;
const api = useApiWorld(async ({ database, world }) => {
  pipelineId = await insertPipeline(database.prisma, world.tenantA, VALID_KDL);
});

/** What a request with a body could change: row counts, and the pipeline a PATCH updates. */
async function databaseState() {
  const prisma = api.database.prisma;
  return {
    tenants: await prisma.tenant.count(),
    pipelines: await prisma.pipeline.count(),
    runs: await prisma.pipelineRun.count(),
    jobs: await prisma.job.count(),
    auditLogs: await prisma.auditLog.count(),
    pipeline: await prisma.pipeline.findUniqueOrThrow({ where: { id: pipelineId } }),
  };
}

/** An id-shaped value that names nothing. */
const UNKNOWN_ID = 'cunknown0000000000000000a';
const BAD_IDS = [
  'x',
  '1',
  "' OR 1=1 --",
  '../../etc/passwd',
  'a'.repeat(500),
  'CAPITALS0000000000000000000',
  'nul\u0000byte00000000000000000',
  '%00',
  '🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂',
];

interface RouteCase {
  name: string;
  handler: RouteHandler;
  method: string;
  params: () => Record<string, string>;
  body?: () => unknown;
}

const ROUTES: RouteCase[] = [
  { name: 'GET tenants', handler: tenantsRoute.GET, method: 'GET', params: () => ({}) },
  { name: 'POST tenants', handler: tenantsRoute.POST, method: 'POST', params: () => ({}), body: () => ({ name: 'n' }) },
  { name: 'GET tenant', handler: tenantRoute.GET, method: 'GET', params: () => ({ tenantId: api.world.tenantA }) },
  { name: 'GET pipelines', handler: tenantPipelinesRoute.GET, method: 'GET', params: () => ({ tenantId: api.world.tenantA }) },
  {
    name: 'POST pipelines',
    handler: tenantPipelinesRoute.POST,
    method: 'POST',
    params: () => ({ tenantId: api.world.tenantA }),
    body: () => ({ name: 'n', config: VALID_KDL }),
  },
  { name: 'GET pipeline', handler: pipelineRoute.GET, method: 'GET', params: () => ({ pipelineId }) },
  { name: 'PATCH pipeline', handler: pipelineRoute.PATCH, method: 'PATCH', params: () => ({ pipelineId }), body: () => ({ name: 'n' }) },
  { name: 'DELETE pipeline', handler: pipelineRoute.DELETE, method: 'DELETE', params: () => ({ pipelineId }) },
  { name: 'GET runs', handler: runsRoute.GET, method: 'GET', params: () => ({ pipelineId }) },
  { name: 'POST runs', handler: runsRoute.POST, method: 'POST', params: () => ({ pipelineId }), body: () => ({}) },
  { name: 'GET run', handler: runRoute.GET, method: 'GET', params: () => ({ runId: UNKNOWN_ID }) },
  { name: 'POST cancel', handler: cancelRoute.POST, method: 'POST', params: () => ({ runId: UNKNOWN_ID }) },
  { name: 'GET logs', handler: logsRoute.GET, method: 'GET', params: () => ({ runId: UNKNOWN_ID, stageRunId: UNKNOWN_ID }) },
];

const BODY_ROUTES = ROUTES.filter((r) => r.body);
const ID_ROUTES = ROUTES.filter((r) => !r.name.endsWith(' tenants'));

describe('authentication', () => {
  const badHeaders: Array<[string, Record<string, string>, string]> = [
    ['no Authorization header', {}, 'unauthenticated'],
    ['empty Authorization header', { authorization: '' }, 'unauthenticated'],
    ['Basic auth', { authorization: 'Basic dXNlcjpwYXNz' }, 'invalid_token'],
    ['Bearer without a token', { authorization: 'Bearer' }, 'invalid_token'],
    ['Bearer with two words', { authorization: 'Bearer a b' }, 'invalid_token'],
    ['a short token', { authorization: 'Bearer bk_short' }, 'invalid_token'],
    ['an unknown token', { authorization: 'Bearer bk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, 'invalid_token'],
    ['a huge token', { authorization: `Bearer bk_${'A'.repeat(10_000)}` }, 'invalid_token'],
  ];
  for (const route of ROUTES) {
    test(`${route.name}: missing, malformed or unknown tokens → 401 with WWW-Authenticate`, async () => {
      for (const [label, headers, code] of badHeaders) {
        const result = await call(route.handler, route.method, '/', { headers, params: route.params(), body: route.body?.() });
        assertError(result, 401, code);
        assert.match(result.headers.get('www-authenticate') ?? '', /^Bearer/, label);
      }
    });
  }

  test('without a token even malformed ids and bodies get 401 (authentication comes first)', async () => {
    for (const route of ID_ROUTES) {
      const params = Object.fromEntries(Object.keys(route.params()).map((name) => [name, 'x']));
      const result = await call(route.handler, route.method, '/', { params, rawBody: route.body ? '{' : undefined });
      assertError(result, 401, 'unauthenticated');
    }
  });

  test('a token with the right prefix but a wrong secret → 401', async () => {
    const forged = api.world.owner.token.slice(0, 12) + 'x'.repeat(api.world.owner.token.length - 12);
    assertError(await call(tenantsRoute.GET, 'GET', '/', { token: forged }), 401, 'invalid_token');
  });

  test('expired and revoked tokens → 401 that says so; a deleted user leaves the token powerless', async () => {
    const expired = await createUserWithToken(api.database.prisma, {
      organizationId: api.world.orgId,
      orgRole: 'owner',
      expiresAt: new Date(Date.now() - 1000),
    });
    assert.match(assertError(await call(tenantsRoute.GET, 'GET', '/', { token: expired.token }), 401, 'invalid_token').message, /expired/);

    const revoked = await createUserWithToken(api.database.prisma, { organizationId: api.world.orgId, orgRole: 'owner' });
    await api.database.prisma.apiKey.update({ where: { id: revoked.apiKeyId }, data: { revokedAt: new Date() } });
    assert.match(assertError(await call(tenantsRoute.GET, 'GET', '/', { token: revoked.token }), 401, 'invalid_token').message, /revoked/);

    const orphan = await createUserWithToken(api.database.prisma, { organizationId: api.world.orgId, orgRole: 'owner' });
    await api.database.prisma.user.delete({ where: { id: orphan.userId } });
    assertError(await call(tenantsRoute.GET, 'GET', '/', { token: orphan.token }), 401, 'invalid_token');
  });

  test('lastUsedAt is set on use and written at most once a minute', async () => {
    const user = await createUserWithToken(api.database.prisma, { organizationId: api.world.orgId, orgRole: 'owner' });
    await call(tenantsRoute.GET, 'GET', '/', { token: user.token });
    const first = (await api.database.prisma.apiKey.findUniqueOrThrow({ where: { id: user.apiKeyId } })).lastUsedAt;
    assert.ok(first);
    await call(tenantsRoute.GET, 'GET', '/', { token: user.token });
    const second = (await api.database.prisma.apiKey.findUniqueOrThrow({ where: { id: user.apiKeyId } })).lastUsedAt;
    assert.equal(second?.getTime(), first.getTime());
    await api.database.prisma.apiKey.update({ where: { id: user.apiKeyId }, data: { lastUsedAt: new Date(Date.now() - 61_000) } });
    await call(tenantsRoute.GET, 'GET', '/', { token: user.token });
    const third = (await api.database.prisma.apiKey.findUniqueOrThrow({ where: { id: user.apiKeyId } })).lastUsedAt;
    assert.ok(third && third.getTime() > first.getTime());
  });

  test('scopes: a read token reads but may not write (403 insufficient_scope); a tenant-restricted token sees one tenant', async () => {
    const reader = await createUserWithToken(api.database.prisma, { organizationId: api.world.orgId, orgRole: 'owner', scopes: ['read'] });
    assert.equal((await call(pipelineRoute.GET, 'GET', '/', { token: reader.token, params: { pipelineId } })).status, 200);
    assertError(await call(runsRoute.POST, 'POST', '/', { token: reader.token, params: { pipelineId }, body: {} }), 403, 'insufficient_scope');
    assertError(await call(tenantsRoute.POST, 'POST', '/', { token: reader.token, body: { name: 'n' } }), 403, 'insufficient_scope');

    const restricted = await createUserWithToken(api.database.prisma, {
      organizationId: api.world.orgId,
      orgRole: 'owner',
      tenantRestriction: api.world.tenantB,
    });
    const listed = await call(tenantsRoute.GET, 'GET', '/', { token: restricted.token });
    assert.deepEqual(
      (listed.body as { items: Array<{ id: string }> }).items.map((t) => t.id),
      [api.world.tenantB],
    );
    assertError(await call(pipelineRoute.GET, 'GET', '/', { token: restricted.token, params: { pipelineId } }), 404, 'not_found');
    assertError(await call(tenantsRoute.POST, 'POST', '/', { token: restricted.token, body: { name: 'n' } }), 403, 'forbidden');

    const scopeless = await createUserWithToken(api.database.prisma, { organizationId: api.world.orgId, orgRole: 'owner', scopes: [] });
    assertError(await call(tenantsRoute.GET, 'GET', '/', { token: scopeless.token }), 403, 'insufficient_scope');
  });
});

describe('bodies', () => {
  for (const route of BODY_ROUTES) {
    test(`${route.name}: bad JSON → 400 invalid_json`, async () => {
      for (const raw of ['{', '{"name":', 'nul', '{"a":1}}', "{'name':'x'}", '\u0000']) {
        const result = await call(route.handler, route.method, '/', {
          token: api.world.owner.token,
          params: route.params(),
          rawBody: raw,
          headers: { 'content-type': 'application/json' },
        });
        assertError(result, 400, 'invalid_json');
      }
      const latin1 = new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d]);
      assertError(
        await call(route.handler, route.method, '/', {
          token: api.world.owner.token,
          params: route.params(),
          rawBody: latin1,
          headers: { 'content-type': 'application/json' },
        }),
        400,
        'invalid_json',
      );
    });

    test(`${route.name}: wrong types → 422 validation_failed with paths`, async () => {
      for (const body of [null, [], 'text', 42, true, { name: 42 }, { name: 'x', unknownField: 1 }, { name: '' }, { variables: 'x' }, { event: 'nope' }]) {
        const result = await call(route.handler, route.method, '/', { token: api.world.owner.token, params: route.params(), body });
        const error = assertError(result, 422, 'validation_failed');
        assert.ok(Array.isArray(error.details) && error.details.length > 0, JSON.stringify(error));
        for (const issue of error.details as Array<{ path: unknown; message: unknown }>) {
          assert.equal(typeof issue.path, 'string');
          assert.equal(typeof issue.message, 'string');
        }
      }
    });

    test(`${route.name}: a body over 1 MiB → 413, by Content-Length and while streaming`, async () => {
      const big = JSON.stringify({ name: 'x', config: 'a'.repeat(MAX_BODY_BYTES) });
      assertError(
        await call(route.handler, route.method, '/', {
          token: api.world.owner.token,
          params: route.params(),
          rawBody: big,
          headers: { 'content-type': 'application/json', 'content-length': String(big.length) },
        }),
        413,
        'payload_too_large',
      );
      // Content-Length lies (or is absent): the limit holds while reading a stream that never ends on its own.
      let sent = 0;
      const endless = new ReadableStream<Uint8Array>({
        pull(controller) {
          sent += 64 * 1024;
          controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
          if (sent > 16 * MAX_BODY_BYTES) controller.close();
        },
      });
      assertError(
        await call(route.handler, route.method, '/', {
          token: api.world.owner.token,
          params: route.params(),
          rawBody: endless,
          headers: { 'content-type': 'application/json', 'content-length': '10' },
        }),
        413,
        'payload_too_large',
      );
      assert.ok(sent < 4 * MAX_BODY_BYTES, `stopped reading early (read ${sent} bytes)`);
    });

    test(`${route.name}: a valid body not sent as application/json → 415 saying what to send, and nothing changes`, async () => {
      // Bytes get no Content-Type of their own, so `{}` sends none at all.
      const valid = new TextEncoder().encode(JSON.stringify(route.body!()));
      const send = (headers: Record<string, string>) =>
        call(route.handler, route.method, '/', { token: api.world.owner.token, params: route.params(), rawBody: valid, headers });
      const before = await databaseState();
      for (const contentType of [
        undefined,
        'text/plain',
        'text/plain; charset=utf-8',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'text/json',
        'application/jsonp',
        '',
      ]) {
        const error = assertError(await send(contentType === undefined ? {} : { 'content-type': contentType }), 415, 'unsupported_media_type');
        assert.match(error.message, /Content-Type: application\/json/, `Content-Type ${contentType}`);
      }
      assert.deepEqual(await databaseState(), before);
      // The same bytes as JSON are accepted: only the content type was wrong.
      const accepted = await send({ 'content-type': 'application/json; charset=utf-8' });
      assert.ok(accepted.status === 200 || accepted.status === 201, accepted.text);
    });
  }

  test('JSON content types: application/json with parameters, any case, and application/*+json; an empty body needs none', async () => {
    for (const contentType of [
      'application/json',
      'Application/JSON; charset=UTF-8',
      'application/merge-patch+json',
      'application/vnd.buildit+json; charset=utf-8',
    ]) {
      const result = await call(tenantsRoute.POST, 'POST', '/', {
        token: api.world.owner.token,
        body: { name: `json ${contentType}` },
        headers: { 'content-type': contentType },
      });
      assert.equal(result.status, 201, `${contentType}: ${result.text}`);
    }
    // No body at all is `{}` (every field of a trigger is optional), whatever the headers say.
    const triggered = await call(runsRoute.POST, 'POST', '/', { token: api.world.owner.token, params: { pipelineId } });
    assert.equal(triggered.status, 201, triggered.text);
  });

  test('trigger: wrong variable types, bad sha, bad branch → 422', async () => {
    for (const body of [
      { variables: { A: 1 } },
      { sha: 'not-hex!' },
      { branch: 'a..b' },
      { branch: ' ' },
      { branch: 'x'.repeat(300) },
      { event: 'push', tag: 5 },
    ]) {
      assertError(await call(runsRoute.POST, 'POST', '/', { token: api.world.owner.token, params: { pipelineId }, body }), 422, 'validation_failed');
    }
  });

  test('pipeline config larger than allowed, or with a bad configPath → 422', async () => {
    for (const body of [
      { name: 'x', config: 'a'.repeat(300 * 1024) },
      { name: 'x', config: VALID_KDL, configPath: '/etc/passwd' },
      { name: 'x', config: VALID_KDL, slug: 'Bad Slug' },
    ]) {
      assertError(
        await call(tenantPipelinesRoute.POST, 'POST', '/', { token: api.world.owner.token, params: { tenantId: api.world.tenantA }, body }),
        422,
        'validation_failed',
      );
    }
    assertError(await call(pipelineRoute.PATCH, 'PATCH', '/', { token: api.world.owner.token, params: { pipelineId }, body: {} }), 422, 'validation_failed');
  });
});

describe('ids and query strings', () => {
  for (const route of ID_ROUTES) {
    test(`${route.name}: malformed ids → 404, unknown ids → 404, never a database error`, async () => {
      const names = Object.keys(route.params());
      for (const bad of [...BAD_IDS, UNKNOWN_ID]) {
        for (const name of names) {
          const params = { ...route.params(), [name]: bad };
          const result = await call(route.handler, route.method, '/', { token: api.world.owner.token, params, body: route.body?.() });
          assertError(result, 404, 'not_found');
        }
      }
    });
  }

  test("ids of other organizations' resources → 404 for every route", async () => {
    const foreignPipeline = await api.database.prisma.pipeline.create({ data: { tenantId: api.world.otherTenant, name: 'f', slug: 'f', config: VALID_KDL } });
    const foreignRun = await api.database.prisma.pipelineRun.create({ data: { pipelineId: foreignPipeline.id, number: 1, event: 'manual', plan: {} } });
    const foreignStage = await api.database.prisma.stageRun.create({ data: { runId: foreignRun.id, stageId: 's', name: 's' } });
    const cases: Array<[RouteHandler, string, Record<string, string>, unknown]> = [
      [tenantRoute.GET, 'GET', { tenantId: api.world.otherTenant }, undefined],
      [tenantPipelinesRoute.GET, 'GET', { tenantId: api.world.otherTenant }, undefined],
      [tenantPipelinesRoute.POST, 'POST', { tenantId: api.world.otherTenant }, { name: 'n', config: VALID_KDL }],
      [pipelineRoute.GET, 'GET', { pipelineId: foreignPipeline.id }, undefined],
      [pipelineRoute.PATCH, 'PATCH', { pipelineId: foreignPipeline.id }, { name: 'n' }],
      [pipelineRoute.DELETE, 'DELETE', { pipelineId: foreignPipeline.id }, undefined],
      [runsRoute.GET, 'GET', { pipelineId: foreignPipeline.id }, undefined],
      [runsRoute.POST, 'POST', { pipelineId: foreignPipeline.id }, {}],
      [runRoute.GET, 'GET', { runId: foreignRun.id }, undefined],
      [cancelRoute.POST, 'POST', { runId: foreignRun.id }, undefined],
      [logsRoute.GET, 'GET', { runId: foreignRun.id, stageRunId: foreignStage.id }, undefined],
    ];
    for (const [handler, method, params, body] of cases) {
      assertError(await call(handler, method, '/', { token: api.world.owner.token, params, body }), 404, 'not_found');
    }
    assert.equal((await api.database.prisma.pipeline.findUnique({ where: { id: foreignPipeline.id } }))?.name, 'f', 'nothing changed');
  });

  test('bad pagination and log query parameters → 400 invalid_query / invalid_cursor', async () => {
    for (const query of [{ limit: '0' }, { limit: '101' }, { limit: 'ten' }, { limit: '1.5' }, { limit: '-1' }]) {
      assertError(await call(tenantsRoute.GET, 'GET', '/', { token: api.world.owner.token, query }), 400, 'invalid_query');
    }
    const forgedJson = Buffer.from('{"a":1}').toString('base64url');
    const forgedDate = Buffer.from(JSON.stringify(['not a date', 'x'])).toString('base64url');
    for (const cursor of ['!!!', 'abc', forgedJson, forgedDate, 'x'.repeat(201)]) {
      const result = await call(runsRoute.GET, 'GET', '/', { token: api.world.owner.token, params: { pipelineId }, query: { cursor } });
      assert.equal(result.status, 400, result.text);
    }
    const run = await api.database.prisma.pipelineRun.create({ data: { pipelineId, number: 999, event: 'manual', plan: {} } });
    const stage = await api.database.prisma.stageRun.create({ data: { runId: run.id, stageId: 's', name: 's' } });
    for (const query of <Array<Record<string, string>>>[{ after: 'x' }, { after: '-5' }, { after: '99999999999' }, { limit: '100000' }, { format: 'xml' }]) {
      assertError(
        await call(logsRoute.GET, 'GET', '/', { token: api.world.owner.token, params: { runId: run.id, stageRunId: stage.id }, query }),
        400,
        'invalid_query',
      );
    }
  });
});
