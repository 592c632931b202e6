// A fresh, migrated database per test file, in milliseconds: clone of a template database.
//
// As graphile-worker's tests do: the server gets one migrated TEMPLATE database (`buildit_template`,
// made once with `prisma migrate deploy`), and every createTestDatabase() is
// `CREATE DATABASE x TEMPLATE buildit_template`. Test files run in parallel processes, so building the
// template is serialized with an advisory lock; a template left half-built (a crash) or made from other
// migrations is detected with checkDatabaseReady and rebuilt.
//
// Server: BUILDIT_TEST_PG_URL (an admin URL; the test harness starts one server for the whole run), or,
// when unset, a throwaway server started for this test file and stopped by the last drop().
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { pinToCpu } from './cpu';
import path from 'node:path';
import pg from 'pg';
import { createPool, createPrismaClient, type PrismaClient } from '../../lib/db/client';
import { migrateDeploy } from '../../lib/db/migrate';
import { checkDatabaseReady, defaultMigrationsDir, listMigrations } from '../../lib/db/ready';
import { startThrowawayPostgres, type ThrowawayPostgres } from './postgres';

export const TEMPLATE_DATABASE = 'buildit_template';
// Any constant works; it only has to be the same in every process.
const TEMPLATE_LOCK_KEY = 0x6275696c; // "buil"

export interface TestDatabase {
  url: string;
  /** Prisma on its own pool (closed by drop()). */
  prisma: PrismaClient;
  /** A pg pool for hand-written SQL (closed by drop()). */
  pool: pg.Pool;
  /** Admin URL of the server (for tests that create more databases). */
  adminUrl: string;
  /** Closes connections, drops the database, and stops the server if this file started it. */
  drop(): Promise<void>;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + encodeURIComponent(database);
  return u.toString();
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

// One server per process when BUILDIT_TEST_PG_URL is unset, shared by this file's test databases.
let ownServer: Promise<ThrowawayPostgres> | null = null;
let ownServerUsers = 0;
const templateReady = new Map<string, Promise<void>>();

async function adminQuery<T extends pg.QueryResultRow>(adminUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Every migration applied, and applied from the same migration.sql as on disk (Prisma stores its sha256):
 * a long-lived test server must not keep serving a template made from an edited migration.
 */
async function templateIsCurrent(templateUrl: string): Promise<boolean> {
  const pool = new pg.Pool({ connectionString: templateUrl, max: 1 });
  try {
    if (!(await checkDatabaseReady(pool)).ok) return false;
    const { rows } = await pool.query<{ migration_name: string; checksum: string }>(
      'SELECT migration_name, checksum FROM _prisma_migrations WHERE rolled_back_at IS NULL',
    );
    const applied = new Map(rows.map((r) => [r.migration_name, r.checksum]));
    return listMigrations().every((name) => {
      const sql = readFileSync(path.join(defaultMigrationsDir, name, 'migration.sql'));
      return applied.get(name) === createHash('sha256').update(sql).digest('hex');
    });
  } finally {
    await pool.end();
  }
}

async function buildTemplate(adminUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
    const templateUrl = withDatabase(adminUrl, TEMPLATE_DATABASE);
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [TEMPLATE_DATABASE]);
    if (rowCount) {
      if (await templateIsCurrent(templateUrl)) return;
      await client.query(`DROP DATABASE ${quote(TEMPLATE_DATABASE)} WITH (FORCE)`);
    }
    await client.query(`CREATE DATABASE ${quote(TEMPLATE_DATABASE)}`);
    try {
      await migrateDeploy(templateUrl);
    } catch (e) {
      await client.query(`DROP DATABASE IF EXISTS ${quote(TEMPLATE_DATABASE)} WITH (FORCE)`).catch(() => {});
      throw e;
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]).catch(() => {});
    await client.end();
  }
}

/** Makes sure the server has an up-to-date migrated template (once per process and server). */
export function ensureTemplate(adminUrl: string): Promise<void> {
  let ready = templateReady.get(adminUrl);
  if (!ready) {
    ready = buildTemplate(adminUrl);
    ready.catch(() => templateReady.delete(adminUrl));
    templateReady.set(adminUrl, ready);
  }
  return ready;
}

async function acquireServer(): Promise<{ adminUrl: string; release(): Promise<void> }> {
  const fromEnv = process.env.BUILDIT_TEST_PG_URL;
  if (fromEnv) return { adminUrl: fromEnv, release: async () => {} };
  ownServer ??= startThrowawayPostgres();
  ownServerUsers++;
  let server: ThrowawayPostgres;
  try {
    server = await ownServer;
  } catch (e) {
    ownServer = null;
    ownServerUsers--;
    throw e;
  }
  return {
    adminUrl: server.adminUrl,
    async release() {
      if (--ownServerUsers > 0) return;
      ownServer = null;
      templateReady.delete(server.adminUrl);
      await server.stop();
    },
  };
}

export interface CreateTestDatabaseOptions {
  /** Start from an empty database instead of the migrated template. */
  empty?: boolean;
}

export async function createTestDatabase(options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const server = await acquireServer();
  const name = `buildit_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  try {
    if (!options.empty) await ensureTemplate(server.adminUrl);
    await adminQuery(server.adminUrl, (c) =>
      c.query(options.empty ? `CREATE DATABASE ${quote(name)}` : `CREATE DATABASE ${quote(name)} TEMPLATE ${quote(TEMPLATE_DATABASE)}`),
    );
  } catch (e) {
    await server.release();
    throw e;
  }
  const url = withDatabase(server.adminUrl, name);
  const pool = createPool(url, { max: 10, applicationName: 'buildit-test' });
  const prisma = createPrismaClient(pool);
  let dropped = false;
  return {
    url,
    prisma,
    pool,
    adminUrl: server.adminUrl,
    async drop() {
      if (dropped) return;
      dropped = true;
      try {
        await prisma.$disconnect();
        await pool.end();
        await adminQuery(server.adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`));
      } finally {
        await server.release();
      }
    },
  };
}

/**
 * Sets the CPU priority (nice), and with `cpu` the one CPU, of the PostgreSQL server on this machine that holds
 * `database`: its postmaster (backends started later inherit both) and every process it runs now. It is the
 * whole server, shared by the test run: only for a test that runs alone. Throws when the server is not a local process.
 */
export async function reniceServer(database: TestDatabase, niceness: number, cpu?: number): Promise<void> {
  const { rows } = await database.pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity');
  const parentOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
  const postmaster = parentOf(rows[0]!.pid);
  for (const pid of [postmaster, ...rows.map((row) => row.pid)]) {
    try {
      setPriority(pid, niceness);
    } catch {
      // A backend that ended since the query.
      continue;
    }
    if (cpu !== undefined) pinToCpu(pid, cpu);
  }
}
