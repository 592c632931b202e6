/**
 * The audit log on a real PostgreSQL: read through the real route handler (filters, cursor pagination,
 * organization admins only, other organizations 404), refused writes recorded as `denied` with who and
 * from where, and rows the database itself refuses to change or delete.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as auditLogRoute from '../../app/api/v1/organizations/[organizationId]/audit-log/route';
import * as pipelineRoute from '../../app/api/v1/pipelines/[pipelineId]/route';
import type { AuditEntry } from '../../lib/api/schemas/audit';
import { assertError, call, createUserWithToken, expectStatus, insertPipeline, useApiWorld, VALID_KDL, type ApiTestContext } from './helpers';

/** Rows written directly, one minute apart from 2030-01-01T00:00Z, so time ranges and order are exact. */
const T0 = Date.parse('2030-01-01T00:00:00Z');
const minute = (n: number) => new Date(T0 + n * 60_000);

async function seedEntries({ database, world }: ApiTestContext) {
  const { orgId, otherOrgId, tenantA, tenantB, owner, memberA, otherOwner } = world;
  const rows = [
    {
      organizationId: orgId,
      tenantId: tenantA,
      actorUserId: owner.userId,
      actorApiKeyId: owner.apiKeyId,
      action: 'pipeline.create',
      targetType: 'pipeline',
      targetId: 'p1',
    },
    {
      organizationId: orgId,
      tenantId: tenantA,
      actorUserId: memberA.userId,
      actorApiKeyId: memberA.apiKeyId,
      action: 'run.trigger',
      targetType: 'run',
      targetId: 'r1',
    },
    {
      organizationId: orgId,
      tenantId: tenantB,
      actorUserId: owner.userId,
      actorApiKeyId: owner.apiKeyId,
      action: 'pipeline.update',
      targetType: 'pipeline',
      targetId: 'p2',
    },
    {
      organizationId: orgId,
      tenantId: tenantA,
      actorUserId: memberA.userId,
      actorApiKeyId: memberA.apiKeyId,
      action: 'pipeline.update',
      targetType: 'pipeline',
      targetId: 'p1',
      outcome: 'denied' as const,
    },
    {
      organizationId: orgId,
      tenantId: tenantA,
      actorUserId: owner.userId,
      actorApiKeyId: owner.apiKeyId,
      action: 'pipeline.update',
      targetType: 'pipeline',
      targetId: 'p1',
    },
    {
      organizationId: otherOrgId,
      actorUserId: otherOwner.userId,
      actorApiKeyId: otherOwner.apiKeyId,
      action: 'pipeline.update',
      targetType: 'pipeline',
      targetId: 'p1',
    },
  ];
  await database.prisma.auditLog.createMany({ data: rows.map((row, i) => ({ ...row, createdAt: minute(i) })) });
}

const api = useApiWorld(seedEntries);

function readLog(token: string, query: Record<string, string> = {}, organizationId = api.world.orgId) {
  return call(auditLogRoute.GET, 'GET', `/api/v1/organizations/${organizationId}/audit-log`, { token, params: { organizationId }, query });
}

/** The seeded entries (in 2030) matching `query`, as `action target`, newest first. */
async function seeded(query: Record<string, string>): Promise<string[]> {
  const result = await readLog(api.world.owner.token, { since: minute(0).toISOString(), ...query });
  expectStatus(result, 200);
  return (result.body as { items: AuditEntry[] }).items.map((entry) => `${entry.action} ${entry.targetId}`);
}

describe('reading the audit log', () => {
  test('filters: actor, token, action, outcome, tenant, resource type and id, time range; only this organization', async () => {
    const { owner, memberA, tenantB } = api.world;
    assert.deepEqual(await seeded({}), ['pipeline.update p1', 'pipeline.update p1', 'pipeline.update p2', 'run.trigger r1', 'pipeline.create p1']);
    assert.deepEqual(await seeded({ actorUserId: memberA.userId }), ['pipeline.update p1', 'run.trigger r1']);
    assert.deepEqual(await seeded({ actorTokenId: owner.apiKeyId, action: 'pipeline.update' }), ['pipeline.update p1', 'pipeline.update p2']);
    assert.deepEqual(await seeded({ outcome: 'denied' }), ['pipeline.update p1']);
    assert.deepEqual(await seeded({ tenantId: tenantB }), ['pipeline.update p2']);
    assert.deepEqual(await seeded({ targetType: 'run' }), ['run.trigger r1']);
    assert.deepEqual(await seeded({ targetType: 'pipeline', targetId: 'p1' }), ['pipeline.update p1', 'pipeline.update p1', 'pipeline.create p1']);
    assert.deepEqual(await seeded({ since: minute(1).toISOString(), until: minute(3).toISOString() }), ['pipeline.update p2', 'run.trigger r1']);
    assertError(await readLog(owner.token, { outcome: 'maybe' }), 400, 'invalid_query');
    assertError(await readLog(owner.token, { since: 'yesterday' }), 400, 'invalid_query');
  });

  test('cursor pagination: newest first, every entry once, a bad cursor is 400', async () => {
    const { owner } = api.world;
    const all = await seeded({});
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const result = await readLog(owner.token, { since: minute(0).toISOString(), limit: '2', ...(cursor ? { cursor } : {}) });
      expectStatus(result, 200);
      const page = result.body as { items: AuditEntry[]; nextCursor: string | null };
      pages.push(page.items.map((entry) => `${entry.action} ${entry.targetId}`));
      cursor = page.nextCursor;
    } while (cursor !== null);
    assert.deepEqual(
      pages.map((page) => page.length),
      [2, 2, 1],
    );
    assert.deepEqual(pages.flat(), all);
    assertError(await readLog(owner.token, { cursor: 'not-a-cursor' }), 400, 'invalid_cursor');
  });

  test('organization admins only (403 for others and for tokens without the admin scope); another organization is 404', async () => {
    const { prisma } = api.database;
    const { orgId, otherOrgId, adminA, viewerA, otherOwner, owner } = api.world;
    const orgAdmin = await createUserWithToken(prisma, { organizationId: orgId, orgRole: 'admin' });
    expectStatus(await readLog(orgAdmin.token), 200);
    assertError(await readLog(adminA.token), 403, 'forbidden');
    assertError(await readLog(viewerA.token), 403, 'forbidden');
    const readOnly = await createUserWithToken(prisma, { organizationId: orgId, orgRole: 'owner', scopes: ['read'] });
    assertError(await readLog(readOnly.token), 403, 'insufficient_scope');

    assertError(await readLog(otherOwner.token, {}, orgId), 404, 'not_found');
    assertError(await readLog(owner.token, {}, otherOrgId), 404, 'not_found');
    assertError(await readLog(owner.token, {}, 'cunknown0000000000000000a'), 404, 'not_found');
    const theirs = (await readLog(otherOwner.token, {}, otherOrgId)).body as { items: AuditEntry[] };
    assert.ok(theirs.items.length > 0 && theirs.items.every((entry) => entry.organizationId === otherOrgId));
  });

  test('the route reads only: no other method', () => {
    assert.deepEqual(
      Object.keys(auditLogRoute).filter((name) => /^[A-Z]+$/.test(name)),
      ['GET'],
    );
  });
});

describe('recording', () => {
  test('a refused write is recorded as denied, with the actor, address and user agent; the change is not made', async () => {
    const { prisma } = api.database;
    const { viewerA, tenantA, owner } = api.world;
    const pipelineId = await insertPipeline(prisma, tenantA, VALID_KDL);
    const headers = { 'x-forwarded-for': '192.0.2.10', 'user-agent': 'buildit-test/1.0' };
    const refused = await call(pipelineRoute.PATCH, 'PATCH', '/', { token: viewerA.token, params: { pipelineId }, body: { name: 'renamed' }, headers });
    assertError(refused, 403, 'forbidden');
    assert.equal((await prisma.pipeline.findUniqueOrThrow({ where: { id: pipelineId } })).name, 'p');

    const rows = await prisma.auditLog.findMany({ where: { targetId: pipelineId } });
    assert.equal(rows.length, 1);
    assert.deepEqual(
      {
        action: rows[0]!.action,
        outcome: rows[0]!.outcome,
        targetType: rows[0]!.targetType,
        actorUserId: rows[0]!.actorUserId,
        actorApiKeyId: rows[0]!.actorApiKeyId,
        ip: rows[0]!.ip,
        userAgent: rows[0]!.userAgent,
      },
      {
        action: 'pipeline.update',
        outcome: 'denied',
        targetType: 'pipeline',
        actorUserId: viewerA.userId,
        actorApiKeyId: viewerA.apiKeyId,
        ip: '192.0.2.10',
        userAgent: 'buildit-test/1.0',
      },
    );

    // A refused read is not recorded (it changes nothing).
    const before = await prisma.auditLog.count();
    assertError(await readLog(viewerA.token), 403, 'forbidden');
    assert.equal(await prisma.auditLog.count(), before);

    // The change itself, allowed, is one success row with the same who and where.
    expectStatus(await call(pipelineRoute.PATCH, 'PATCH', '/', { token: owner.token, params: { pipelineId }, body: { name: 'renamed' }, headers }), 200);
    const success = await prisma.auditLog.findFirstOrThrow({ where: { targetId: pipelineId, outcome: 'success' } });
    assert.deepEqual([success.action, success.actorUserId, success.ip, success.userAgent], ['pipeline.update', owner.userId, '192.0.2.10', 'buildit-test/1.0']);
  });

  test('never editable: the database refuses UPDATE, DELETE and TRUNCATE of audit rows', async () => {
    const { pool } = api.database;
    const count = async () => Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM audit_logs')).rows[0]!.n);
    const before = await count();
    assert.ok(before > 0);
    for (const statement of ["UPDATE audit_logs SET action = 'nothing.happened'", 'DELETE FROM audit_logs', 'TRUNCATE audit_logs']) {
      await assert.rejects(pool.query(statement), /audit_logs is append-only/, statement);
    }
    assert.equal(await count(), before);
    assert.equal((await pool.query("SELECT 1 FROM audit_logs WHERE action = 'nothing.happened'")).rowCount, 0);
  });

  test('rows outlive what they name: deleting a user or a tenant keeps their rows as they were', async () => {
    const { prisma } = api.database;
    const { orgId, owner } = api.world;
    const user = await createUserWithToken(prisma, { organizationId: orgId, orgRole: 'admin' });
    const tenant = await prisma.tenant.create({ data: { organizationId: orgId, slug: 'short-lived', name: 'Short-lived' } });
    await prisma.auditLog.create({
      data: { organizationId: orgId, tenantId: tenant.id, actorUserId: user.userId, action: 'tenant.create', targetType: 'tenant', targetId: tenant.id },
    });
    await prisma.tenant.delete({ where: { id: tenant.id } });
    await prisma.user.delete({ where: { id: user.userId } });
    const row = await prisma.auditLog.findFirstOrThrow({ where: { targetId: tenant.id } });
    assert.deepEqual([row.tenantId, row.actorUserId], [tenant.id, user.userId]);
    expectStatus(await readLog(owner.token, { targetId: tenant.id }), 200);
  });
});
