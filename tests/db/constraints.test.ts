// Unique constraints and enums the application relies on, checked against the migrated schema.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { enqueueJob } from '../../lib/queue/enqueue';

/** Prisma's unique-violation error (P2002). */
function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: string }).code === 'P2002';
}

describe('database constraints', () => {
  let db: TestDatabase;
  let tenantId: string;
  let otherTenantId: string;
  let pipelineId: string;

  before(async () => {
    db = await createTestDatabase();
    const org = await db.prisma.organization.create({ data: { slug: 'acme', name: 'Acme' } });
    const tenant = await db.prisma.tenant.create({ data: { organizationId: org.id, slug: 'web', name: 'Web' } });
    const other = await db.prisma.tenant.create({ data: { organizationId: org.id, slug: 'ops', name: 'Ops' } });
    tenantId = tenant.id;
    otherTenantId = other.id;
    const pipeline = await db.prisma.pipeline.create({
      data: { tenantId, name: 'Build', slug: 'build', repository: 'https://git.example/acme/web.git', config: 'stage "test" {}' },
    });
    pipelineId = pipeline.id;
  });
  after(async () => {
    await db?.drop();
  });

  test('tenant slug is unique per organization', async () => {
    const org = await db.prisma.tenant.findUniqueOrThrow({ where: { id: tenantId } });
    await assert.rejects(db.prisma.tenant.create({ data: { organizationId: org.organizationId, slug: 'web', name: 'Again' } }), isUniqueViolation);
    const org2 = await db.prisma.organization.create({ data: { slug: 'other-org', name: 'Other' } });
    await db.prisma.tenant.create({ data: { organizationId: org2.id, slug: 'web', name: 'Web elsewhere' } });
  });

  test('pipeline slug is unique per tenant, not globally', async () => {
    await assert.rejects(db.prisma.pipeline.create({ data: { tenantId, name: 'Build 2', slug: 'build' } }), isUniqueViolation);
    const elsewhere = await db.prisma.pipeline.create({ data: { tenantId: otherTenantId, name: 'Build', slug: 'build' } });
    assert.equal(elsewhere.slug, 'build');
    assert.equal(elsewhere.defaultBranch, 'main');
  });

  test('run number is unique per pipeline; runs and stage runs keep Json, arrays and enums', async () => {
    const run = await db.prisma.pipelineRun.create({
      data: {
        pipelineId,
        number: 1,
        event: 'push',
        branch: 'main',
        commitSha: 'abc123',
        commitMessage: 'fix',
        commitAuthor: 'ann',
        variables: { DEPLOY: 'yes' },
        plan: { stages: [] },
        triggeredBy: 'webhook:1',
        stages: { create: [{ stageId: 'test[node=18]', name: 'test', matrix: { node: '18' }, needs: ['build'] }] },
      },
      include: { stages: true },
    });
    assert.equal(run.status, 'queued');
    assert.deepEqual(run.variables, { DEPLOY: 'yes' });
    assert.equal(run.stages[0]!.status, 'pending');
    assert.deepEqual(run.stages[0]!.needs, ['build']);
    assert.deepEqual(run.stages[0]!.matrix, { node: '18' });
    await assert.rejects(db.prisma.pipelineRun.create({ data: { pipelineId, number: 1, event: 'push', plan: {} } }), isUniqueViolation);
    await assert.rejects(
      db.prisma.stageRun.create({ data: { runId: run.id, stageId: 'test[node=18]', name: 'test' } }),
      isUniqueViolation,
      'stage id is unique within a run',
    );
  });

  test('log chunk (stage run, seq) is unique', async () => {
    const run = await db.prisma.pipelineRun.create({
      data: { pipelineId, number: 2, event: 'manual', plan: {}, stages: { create: [{ stageId: 'build', name: 'build' }] } },
      include: { stages: true },
    });
    const stageRunId = run.stages[0]!.id;
    await db.prisma.logChunk.create({ data: { stageRunId, seq: 0, text: 'hello\n' } });
    await db.prisma.logChunk.create({ data: { stageRunId, seq: 1, text: 'world\n' } });
    await assert.rejects(db.prisma.logChunk.create({ data: { stageRunId, seq: 1, text: 'again\n' } }), isUniqueViolation);
    // The hot path writes with SQL: same constraint.
    await assert.rejects(
      db.pool.query('INSERT INTO log_chunks (stage_run_id, seq, text) VALUES ($1, 0, $2)', [stageRunId, 'dup']),
      (e: unknown) => (e as { code?: string }).code === '23505',
    );
  });

  test('job dedupe key is unique; null keys are not', async () => {
    await db.prisma.job.create({ data: { kind: 'run', dedupeKey: 'run:1' } });
    await assert.rejects(db.prisma.job.create({ data: { kind: 'run', dedupeKey: 'run:1' } }), isUniqueViolation);
    await db.prisma.job.create({ data: { kind: 'run' } });
    await db.prisma.job.create({ data: { kind: 'run' } });
    // enqueueJob turns the conflict into "already there".
    const again = await enqueueJob(db.pool, { kind: 'run', dedupeKey: 'run:1' });
    assert.equal(again.created, false);
    assert.equal(await db.prisma.job.count({ where: { dedupeKey: 'run:1' } }), 1);
  });

  test('secret name is unique per tenant; only ciphertext fields are stored', async () => {
    const data = { name: 'NPM_TOKEN', ciphertext: Buffer.from('c1'), iv: Buffer.alloc(12, 1), authTag: Buffer.alloc(16, 2), keyId: 'k1' };
    const secret = await db.prisma.secret.create({ data: { tenantId, ...data } });
    assert.deepEqual(Buffer.from(secret.iv), Buffer.alloc(12, 1));
    await assert.rejects(db.prisma.secret.create({ data: { tenantId, ...data } }), isUniqueViolation);
    await db.prisma.secret.create({ data: { tenantId: otherTenantId, ...data } });
    const { rows } = await db.pool.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'secrets' ORDER BY ordinal_position",
    );
    assert.deepEqual(
      rows.map((r) => r.column_name),
      ['id', 'tenant_id', 'name', 'ciphertext', 'iv', 'auth_tag', 'key_id', 'created_at', 'updated_at', 'created_by_id', 'updated_by_id'],
    );
  });

  test('memberships are unique per (org|tenant, user) and roles are enums', async () => {
    const user = await db.prisma.user.create({ data: { email: 'ann@example.com' } });
    const org = await db.prisma.organization.create({ data: { slug: 'roles', name: 'Roles' } });
    await db.prisma.orgMembership.create({ data: { organizationId: org.id, userId: user.id, role: 'owner' } });
    await assert.rejects(db.prisma.orgMembership.create({ data: { organizationId: org.id, userId: user.id } }), isUniqueViolation);
    await db.prisma.tenantMembership.create({ data: { tenantId, userId: user.id, role: 'viewer' } });
    await assert.rejects(db.prisma.tenantMembership.create({ data: { tenantId, userId: user.id } }), isUniqueViolation);
    await assert.rejects(
      db.pool.query("UPDATE org_memberships SET role = 'superuser'"),
      (e: unknown) => (e as { code?: string }).code === '22P02',
      'not a value of the org_role enum',
    );
    await assert.rejects(db.pool.query("UPDATE jobs SET status = 'paused'"), (e: unknown) => (e as { code?: string }).code === '22P02');
  });

  test('api keys store prefix and hash only; the prefix is unique', async () => {
    const org = await db.prisma.organization.findFirstOrThrow({ where: { slug: 'acme' } });
    const key = { organizationId: org.id, name: 'ci', prefix: 'bld_abc123', hash: 'f'.repeat(64), scopes: ['runs:write'] };
    const created = await db.prisma.apiKey.create({ data: { ...key, tenantId, expiresAt: new Date(Date.now() + 86_400_000) } });
    assert.deepEqual(created.scopes, ['runs:write']);
    await assert.rejects(db.prisma.apiKey.create({ data: key }), isUniqueViolation);
  });

  test('timestamps are timestamptz: SQL now() and Prisma Dates agree whatever the session time zone', async () => {
    const client = await db.pool.connect();
    try {
      await client.query("SET TIME ZONE 'Pacific/Auckland'");
      const { rows } = await client.query<{ id: string }>("INSERT INTO jobs (kind) VALUES ('tz') RETURNING id::text AS id");
      const job = await db.prisma.job.findUniqueOrThrow({ where: { id: rows[0]!.id } });
      assert.ok(Math.abs(job.runAt.getTime() - Date.now()) < 60_000, `run_at ${job.runAt.toISOString()} is not now`);
    } finally {
      await client.query('RESET TIME ZONE');
      client.release();
    }
  });
});
