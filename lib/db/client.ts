// Prisma client + pg pool. Prisma runs on @prisma/adapter-pg over a pg.Pool we own, so hot paths
// (job claims, log chunk inserts) can run plain SQL on the SAME pool (see lib/queue/claim.ts).
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { databasePoolSizeFromEnv, databaseUrlFromEnv } from '../config/env';
import { Prisma, PrismaClient } from '../generated/prisma/client';

// The generated client (lib/generated/prisma, made by `prisma generate` on postinstall), re-exported so the
// rest of the code imports the database from one place.
export { Prisma, PrismaClient };
export { JobStatus, OrgRole, RunStatus, StageStatus, TenantRole } from '../generated/prisma/enums';

export interface PoolOptions {
  /** Max connections in the pool (default DATABASE_POOL_SIZE or 10). */
  max?: number;
  /** Shown in pg_stat_activity.application_name (default "buildit"). */
  applicationName?: string;
}

export function createPool(url: string, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? databasePoolSizeFromEnv(),
    application_name: options.applicationName ?? 'buildit',
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
  });
  // A client losing its connection (server restart) must not crash the process. Idle ones: the pool drops
  // them and the next query opens a new one. Checked-out ones (the Socket.IO adapter's LISTEN connection)
  // get their own listener: without one the 'error' event throws, and the 'end' that should follow, on
  // which their holder reconnects, is never emitted. The holder's pending query still fails.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/**
 * A PrismaClient for `urlOrPool`. Given a URL it owns its pool (closed by `$disconnect()`); given a pool,
 * it shares it and leaves closing it to the caller.
 */
export function createPrismaClient(urlOrPool: string | pg.Pool, options: PoolOptions = {}): PrismaClient {
  const owned = typeof urlOrPool === 'string';
  const pool = owned ? createPool(urlOrPool, options) : urlOrPool;
  const adapter = new PrismaPg(pool, { disposeExternalPool: owned });
  return new PrismaClient({ adapter });
}

interface SharedDb {
  url: string;
  pool: pg.Pool;
  prisma: PrismaClient;
}

// Kept on globalThis so Next's dev-mode module reloading does not open a new pool on every edit.
const globalForDb = globalThis as typeof globalThis & { __builditDb?: SharedDb };

function shared(): SharedDb {
  if (globalForDb.__builditDb) return globalForDb.__builditDb;
  const url = databaseUrlFromEnv();
  if (!url) {
    throw new Error(
      'DATABASE_URL is not set. Start BuildIt through its entry point (which starts the embedded PostgreSQL ' +
        'when no DATABASE_URL is given, see lib/db/bootstrap.ts), or set DATABASE_URL=postgresql://...',
    );
  }
  const pool = createPool(url);
  const db = { url, pool, prisma: createPrismaClient(pool) };
  globalForDb.__builditDb = db;
  return db;
}

/** The process-wide PrismaClient, created on first use from DATABASE_URL. */
export function getPrisma(): PrismaClient {
  return shared().prisma;
}

/** The process-wide pg pool (the one under getPrisma()), for hand-written SQL on hot paths. */
export function getPool(): pg.Pool {
  return shared().pool;
}

/** Closes the shared client and pool (for shutdown and tests); the next getPrisma() starts over. */
export async function closeSharedDb(): Promise<void> {
  const db = globalForDb.__builditDb;
  if (!db) return;
  globalForDb.__builditDb = undefined;
  await db.prisma.$disconnect();
  await db.pool.end();
}

/** Something we can run SQL on: a pool, a checked-out client, or a PrismaClient / transaction client. */
export type Queryable = pg.Pool | pg.PoolClient | pg.Client | SqlPrisma;

/** The part of PrismaClient (and of a $transaction client) used to run raw SQL. */
export interface SqlPrisma {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}

function isPg(db: Queryable): db is pg.Pool | pg.PoolClient | pg.Client {
  return typeof (db as pg.Pool).query === 'function';
}

/** Runs one parameterized statement ($1, $2, ...) on either kind of connection; returns the rows. */
export async function queryRows<T extends Record<string, unknown>>(db: Queryable, sql: string, values: unknown[] = []): Promise<T[]> {
  if (isPg(db)) return (await db.query<T>(sql, values)).rows;
  return db.$queryRawUnsafe<T[]>(sql, ...values);
}
