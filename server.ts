/**
 * The web process: one Node HTTP server that serves Next.js (pages and /api route handlers)
 * and, from the server-mode release on, hosts Socket.IO on the same port.
 * Started by `npm start` (scripts/start.ts) with DATABASE_URL already resolved and migrated.
 */
import { createServer } from 'node:http';
import next from 'next';
import { bootstrapFromEnv } from './lib/auth';
import { ownerFromEnv } from './lib/auth/first-run';
import { webHostFromEnv, webPortFromEnv } from './lib/config/env';
import { getPool, getPrisma } from './lib/db/client';
import { createLogger } from './lib/log';
import { attachRealtime } from './lib/realtime/server';
import { prepareSecretKeys } from './lib/secrets/startup';
import { lockMethodRoute } from './lib/stacks/state/methods';
import { onSupervisorGone } from './lib/system';

const log = createLogger('web');
const dev = process.env.NODE_ENV !== 'production';

async function main(): Promise<void> {
  const port = webPortFromEnv();
  const hostname = webHostFromEnv();
  // BUILDIT_BOOTSTRAP_TOKEN: a fresh install gets an organization, a tenant and an admin token (idempotent).
  const bootstrap = await bootstrapFromEnv(getPrisma());
  if (bootstrap.status === 'created') log.info('bootstrap: created organization `default`, tenant `default` and the admin API token');
  // BUILDIT_ADMIN_EMAIL/PASSWORD: the first owner, unattended (idempotent; an existing password is never changed).
  await ownerFromEnv(getPrisma());
  // A key that cannot decrypt the stored secrets stops the start here, with what to do (lib/secrets/startup.ts).
  const secretKeys = await prepareSecretKeys(getPool());
  if (secretKeys.backupNotice) log.warn(secretKeys.backupNotice);

  const app = next({ dev, hostname, port, dir: import.meta.dirname });
  const handle = app.getRequestHandler();
  await app.prepare();

  const server = createServer((req, res) => {
    // Terraform's LOCK/UNLOCK on a stack's state, which Next cannot route (lib/stacks/state/methods.ts).
    const lockRoute = lockMethodRoute(req.method, req.url);
    if (lockRoute !== null) {
      req.method = 'POST';
      req.url = lockRoute;
    }
    handle(req, res).catch((error: unknown) => {
      log.error({ err: error, url: req.url }, 'request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'internal', message: 'internal server error' } }));
    });
  });
  // Socket.IO on the same port (/socket.io): live run events; rooms shared by replicas through PostgreSQL.
  const realtime = await attachRealtime(server, { pool: getPool(), prisma: getPrisma(), log: log.child({ component: 'realtime' }) });
  server.on('error', (error: NodeJS.ErrnoException) => {
    log.fatal({ err: error }, error.code === 'EADDRINUSE' ? `port ${port} is already in use: set PORT to a free port` : 'server error');
    process.exit(1);
  });
  server.listen(port, hostname, () => log.info({ port, dev }, `web ready on http://localhost:${port}`));

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'web shutting down');
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    // Socket.IO connections are not idle HTTP connections: drop them (clients reconnect to another replica).
    realtime.close().catch((error: unknown) => log.warn({ err: error }, 'closing Socket.IO failed'));
    // Open keep-alive or streaming connections must not hold the shutdown forever.
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // Under `npm start`: a web server whose supervisor was killed must not run on alone (nobody would stop it).
  onSupervisorGone(() => shutdown('supervisor gone'));
}

main().catch((error: unknown) => {
  log.fatal({ err: error }, 'web failed to start');
  process.exit(1);
});
