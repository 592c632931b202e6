/**
 * The worker process: waits until the database is reachable and migrated, then runs a JobRunner with the
 * handlers of worker/jobs. SIGTERM/SIGINT → graceful stop: no new claims, running jobs get
 * BUILDIT_WORKER_GRACE_MS (default 30 s) to finish, then are handed back to the queue; exit 0.
 *
 * Environment: DATABASE_URL (required), BUILDIT_WORKER_CONCURRENCY (jobs at once, default 4),
 * BUILDIT_WORKER_GRACE_MS (default 30000), BUILDIT_WORKER_ID (default host-pid-random),
 * BUILDIT_WORKER_KINDS (comma-separated job kinds this worker claims, e.g. `run`; default: every kind),
 * BUILDIT_WORKER_LEASE_MS (job lease, default 15000: a crashed worker's job is taken over this long after its
 * last heartbeat; heartbeats every third of it, at most every 5 s).
 *
 * Every worker also runs the cron scheduler (lib/schedule): one of them, elected with an advisory lock,
 * enqueues the scheduled runs. BUILDIT_SCHEDULER=off disables it in this worker.
 */
import {
  schedulerEnabledFromEnv,
  workerConcurrencyFromEnv,
  workerGraceMsFromEnv,
  workerIdFromEnv,
  workerLeaseMsFromEnv,
  workerKindsFromEnv,
} from '../lib/config/env';
import { closeSharedDb, getPool, getPrisma } from '../lib/db/client';
import { checkDatabaseReady } from '../lib/db/ready';
import { createLogger } from '../lib/log';
import { JobRunner } from '../lib/queue/runner';
import { Scheduler } from '../lib/schedule/scheduler';
import { onSupervisorGone } from '../lib/system';
import { CancelRequests } from '../lib/runs/cancel-requests';
import { prepareSecretKeys } from '../lib/secrets/startup';
import { createJobHandlers } from './jobs/index';

const workerId = workerIdFromEnv();
const log = createLogger('worker', { workerId });

async function main(): Promise<void> {
  const concurrency = workerConcurrencyFromEnv();
  const graceMs = workerGraceMsFromEnv();
  const leaseMs = workerLeaseMsFromEnv();
  const schedulerEnabled = schedulerEnabledFromEnv();
  const heartbeatMs = Math.min(5_000, Math.floor(leaseMs / 3));

  let signalled = false;
  let onSignal: () => void = () => {};
  const stopRequested = new Promise<void>((resolve) => {
    onSignal = () => {
      signalled = true;
      resolve();
    };
  });
  process.once('SIGTERM', () => onSignal());
  process.once('SIGINT', () => onSignal());
  // Under `npm start`: a worker whose supervisor was killed must not run on alone (nobody would stop it).
  onSupervisorGone(() => {
    log.warn('npm start (the supervisor) is gone; stopping');
    onSignal();
  });

  const pool = getPool();
  const cancelRequests = new CancelRequests({ prisma: getPrisma(), listen: pool.options, log });
  const handlers = createJobHandlers({ prisma: getPrisma(), pool, cancelRequests });
  const kinds = workerKindsFromEnv(Object.keys(handlers)); // a bad setting fails before any waiting
  // A worker on an old schema must not claim jobs; the database may also still be starting.
  for (let attempt = 1; !signalled; attempt++) {
    const readiness = await checkDatabaseReady(pool);
    if (readiness.ok) break;
    if (attempt === 1 || attempt % 10 === 0) log.warn({ reason: readiness.reason, attempt }, 'database not ready; waiting');
    await Promise.race([stopRequested, new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 200 * attempt)))]);
  }
  if (signalled) {
    log.info('worker stopped before the database was ready');
    await closeSharedDb();
    return;
  }

  // A key that cannot decrypt the stored secrets stops the worker before it claims a run (lib/secrets/startup.ts).
  const secretKeys = await prepareSecretKeys(pool);
  if (secretKeys.backupNotice) log.warn(secretKeys.backupNotice);

  const runner = new JobRunner({ pool, workerId, handlers, concurrency, leaseMs, heartbeatMs, log, ...(kinds ? { kinds } : {}) });
  await runner.start();
  const scheduler = schedulerEnabled ? new Scheduler({ pool, prisma: getPrisma(), log: log.child({ component: 'scheduler' }) }) : null;
  if (scheduler) await scheduler.start();
  else log.info('scheduler disabled (BUILDIT_SCHEDULER=off)');
  log.info({ concurrency, leaseMs, kinds: kinds ?? Object.keys(handlers) }, 'worker ready');

  await stopRequested;
  // First: releases the lock at once, so another worker's scheduler takes over while this one drains.
  await scheduler?.stop();
  log.info({ graceMs, activeJobs: runner.activeJobs }, 'worker shutting down');
  await runner.stop({ graceMs });
  await cancelRequests.close();
  await closeSharedDb();
  log.info('worker stopped');
}

main()
  .then(() => process.exit(0))
  .catch((error: unknown) => {
    log.fatal({ err: error }, 'worker failed');
    process.exit(1);
  });
