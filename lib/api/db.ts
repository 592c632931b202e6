/**
 * The Prisma client the API uses. Production: the process-wide client from lib/db (DATABASE_URL).
 * Tests point the handlers at their own database with `setPrismaForTests`.
 */
import { getPrisma, type Prisma, type PrismaClient } from '../db/client';

let override: PrismaClient | null = null;

export function db(): PrismaClient {
  return override ?? getPrisma();
}

/** Makes every API handler use `client` (pass null to go back to the shared client). Tests only. */
export function setPrismaForTests(client: PrismaClient | null): void {
  override = client;
}

export type { PrismaClient };
/** The client handed to `$transaction(async (tx) => ...)`. */
export type Tx = Prisma.TransactionClient;
