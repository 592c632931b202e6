import path from 'node:path';
import { getPool } from '../../../lib/db/client';
import { checkDatabaseReady } from '../../../lib/db/ready';

export const dynamic = 'force-dynamic';

// The web server always runs from the repository root (scripts/start.ts); import.meta.url would
// point into the .next build output instead.
const migrationsDir = path.join(process.cwd(), 'prisma', 'migrations');

/** Readiness: the database is reachable and every migration is applied; 503 with the reason otherwise. */
export async function GET(): Promise<Response> {
  const result = await checkDatabaseReady(getPool(), { migrationsDir });
  if (result.ok) return Response.json({ status: 'ready' });
  return Response.json({ status: 'unavailable', reason: result.reason }, { status: 503 });
}
