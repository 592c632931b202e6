/**
 * The worker process. It connects to the database, reports ready, and shuts down cleanly on
 * SIGTERM/SIGINT. The job loop (claim → run pipeline → heartbeat) arrives with server mode.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { getPrisma } from '../lib/db/client';
import { createLogger } from '../lib/log';

const workerId = process.env.BUILDIT_WORKER_ID ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
const log = createLogger('worker', { workerId });

async function main(): Promise<void> {
  const prisma = getPrisma();
  await prisma.$queryRaw`SELECT 1`;
  log.info('worker ready');

  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  log.info('worker shutting down');
  await prisma.$disconnect();
}

main()
  .then(() => process.exit(0))
  .catch((error: unknown) => {
    log.fatal({ err: error }, 'worker failed');
    process.exit(1);
  });
