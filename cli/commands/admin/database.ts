/**
 * The installation's database for an admin command: DATABASE_URL, else the embedded PostgreSQL of
 * BUILDIT_DATA_DIR (started for the command when BuildIt is not running), checked to be migrated.
 */
import { dataDirFromEnv } from '../../../lib/config/env';
import { resolveDatabase } from '../../../lib/db/bootstrap';
import { createPool, createPrismaClient } from '../../../lib/db/client';
import { checkDatabaseReady } from '../../../lib/db/ready';
import type { PrismaClient } from '../../../lib/generated/prisma/client';
import { UsageError } from '../../errors';

export async function withInstallationDatabase<T>(work: (prisma: PrismaClient, dataDir: string) => Promise<T>): Promise<T> {
  const dataDir = dataDirFromEnv();
  const database = await resolveDatabase({ dataDir });
  const pool = createPool(database.url, { max: 2 });
  const prisma = createPrismaClient(pool);
  try {
    const readiness = await checkDatabaseReady(pool);
    if (!readiness.ok) throw new UsageError(`the database is not ready (${readiness.reason}): start BuildIt once (npm start), which applies its migrations`);
    return await work(prisma, dataDir);
  } finally {
    await prisma.$disconnect();
    await pool.end();
    await database.stop();
  }
}
