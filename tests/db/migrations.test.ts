// prisma/migrations against a real PostgreSQL: they apply to an empty database, agree with schema.prisma,
// and readiness reports what is missing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { runPrisma, repoRoot } from '../../scripts/prisma';
import { migrateDeploy, MigrationError } from '../../lib/db/migrate';
import { checkDatabaseReady, defaultMigrationsDir, listMigrations } from '../../lib/db/ready';
import { createTestDatabase, type TestDatabase } from '../support/db';

const EXPECTED_TABLES = [
  'api_keys',
  'audit_logs',
  'environments',
  'invitations',
  'jobs',
  'log_chunks',
  'org_memberships',
  'organizations',
  'pipeline_runs',
  'pipeline_webhooks',
  'pipelines',
  'run_status_targets',
  'secrets',
  'sessions',
  'stack_run_log_chunks',
  'stack_runs',
  'stack_variables',
  'stacks',
  'stage_approvals',
  'stage_runs',
  'state_locks',
  'state_versions',
  'tenant_memberships',
  'tenants',
  'users',
];

describe('migrations', () => {
  let empty: TestDatabase;
  before(async () => {
    empty = await createTestDatabase({ empty: true });
  });
  after(async () => {
    await empty?.drop();
  });

  test('an empty database is not ready, with a reason that says to migrate', async () => {
    const readiness = await checkDatabaseReady(empty.pool);
    assert.equal(readiness.ok, false);
    assert.ok(!readiness.ok && /not migrated/.test(readiness.reason) && /migrate deploy/.test(readiness.reason), JSON.stringify(readiness));
    // The PrismaClient works as the argument too.
    assert.deepEqual(await checkDatabaseReady(empty.prisma), readiness);
  });

  test('migrateDeploy applies every migration to an empty database; readiness is then ok', async (t) => {
    const result = await migrateDeploy(empty.url);
    t.diagnostic(`migrateDeploy on an empty database: ${result.durationMs.toFixed(0)} ms`);
    assert.deepEqual(await checkDatabaseReady(empty.pool), { ok: true });
    assert.deepEqual(await checkDatabaseReady(empty.prisma), { ok: true });
    const { rows } = await empty.pool.query<{ tablename: string }>(
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY 1",
    );
    assert.deepEqual(
      rows.map((r) => r.tablename),
      EXPECTED_TABLES,
    );
    const applied = await empty.pool.query<{ migration_name: string }>('SELECT migration_name FROM _prisma_migrations ORDER BY 1');
    assert.deepEqual(
      applied.rows.map((r) => r.migration_name),
      listMigrations(),
    );
    // Running it again is a no-op.
    await migrateDeploy(empty.url);
  });

  test('the job insert trigger notifies channel buildit_jobs with the job kind', async () => {
    const listener = new pg.Client({ connectionString: empty.url });
    await listener.connect();
    try {
      await listener.query('LISTEN buildit_jobs');
      const received = new Promise<pg.Notification>((resolve) => listener.once('notification', resolve));
      await empty.pool.query("INSERT INTO jobs (kind) VALUES ('run')");
      const note = await Promise.race([received, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no NOTIFY within 5 s')), 5_000))]);
      assert.equal(note.channel, 'buildit_jobs');
      assert.equal(note.payload, 'run');
    } finally {
      await listener.end();
    }
  });

  test('a pending migration (in the folder, not in the database) makes readiness fail with its name', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'buildit-migrations-'));
    try {
      cpSync(defaultMigrationsDir, dir, { recursive: true });
      mkdirSync(path.join(dir, '29990101000000_future'));
      writeFileSync(path.join(dir, '29990101000000_future', 'migration.sql'), 'SELECT 1;');
      const readiness = await checkDatabaseReady(empty.pool, { migrationsDir: dir });
      assert.equal(readiness.ok, false);
      assert.match(!readiness.ok ? readiness.reason : '', /1 pending migration\(s\): 29990101000000_future/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a database migrated by a newer version (unknown migration) is not ready', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'buildit-migrations-'));
    try {
      // An empty folder: every applied migration is unknown to it.
      const readiness = await checkDatabaseReady(empty.pool, { migrationsDir: dir });
      assert.equal(readiness.ok, false);
      assert.match(!readiness.ok ? readiness.reason : '', /does not know/);
      // No migrations folder at all (e.g. a bundle that lost track of it): not ready, and it says why.
      const lost = await checkDatabaseReady(empty.pool, { migrationsDir: path.join(dir, 'missing') });
      assert.match(!lost.ok ? lost.reason : '', /not found.*BUILDIT_MIGRATIONS_DIR/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an unreachable database: readiness says so, migrateDeploy fails with a clear error', async () => {
    const url = 'postgresql://nobody:secret@127.0.0.1:9/nothing';
    const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 2_000 });
    try {
      const readiness = await checkDatabaseReady(pool);
      assert.equal(readiness.ok, false);
      assert.match(!readiness.ok ? readiness.reason : '', /unreachable/);
    } finally {
      await pool.end();
    }
    await assert.rejects(migrateDeploy(url), (e: unknown) => {
      assert.ok(e instanceof MigrationError);
      assert.match(e.message, /Applying database migrations to postgresql:\/\/nobody:\*\*\*@127\.0\.0\.1:9\/nothing failed/);
      assert.match(e.message, /reachable/);
      assert.doesNotMatch(e.message, /secret/, 'the password is redacted');
      return true;
    });
  });

  test('schema.prisma and prisma/migrations agree (prisma migrate diff --exit-code is empty)', async () => {
    // --from-migrations replays the migrations into a shadow database on the configured server.
    const r = await runPrisma(['migrate', 'diff', '--from-migrations', 'prisma/migrations', '--to-schema', 'prisma/schema.prisma', '--exit-code'], {
      databaseUrl: empty.url,
      cwd: repoRoot,
    });
    assert.equal(
      r.code,
      0,
      `schema.prisma differs from prisma/migrations (exit ${r.code}). Create a migration: ` +
        `npm run prisma -- migrate dev --name <change>\n${r.stdout}\n${r.stderr}`,
    );
    assert.match(r.stdout, /No difference detected|empty/i, r.stdout);
  });
});
