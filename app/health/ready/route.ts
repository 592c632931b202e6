import { checkDatabaseReady } from '../../../lib/db/ready';
import { getPrisma } from '../../../lib/db/client';

export const dynamic = 'force-dynamic';

/** Readiness: the database is reachable and every migration is applied; 503 with the reason otherwise. */
export async function GET(): Promise<Response> {
  const result = await checkDatabaseReady(getPrisma());
  if (result.ok) return Response.json({ status: 'ready' });
  return Response.json({ status: 'unavailable', reason: result.reason }, { status: 503 });
}
