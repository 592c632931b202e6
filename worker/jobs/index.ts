/**
 * The worker's job handlers, by job kind. A job whose kind has no entry here is failed by the runner with
 * a message naming the kinds this worker handles.
 *
 * To add a kind: write `worker/jobs/<kind>.ts` exporting a handler factory and add it below.
 * A handler receives the claimed job (`payload` is unvalidated JSON: parse it with zod) and a context whose
 * `signal` is aborted when the worker shuts down (the job is handed back) or loses the lease; it must stop
 * promptly then. Throwing fails the attempt (retried with backoff up to max_attempts). Handlers must be
 * idempotent: a job runs at least once (a crashed worker's job is run again by another one).
 */
import type pg from 'pg';
import { dataDirFromEnv, dbRetryMsFromEnv, logCapBytesFromEnv, publicUrlFromEnv, workerExecutorsFromEnv } from '../../lib/config/env';
import type { PrismaClient } from '../../lib/db/client';
import type { JobHandlers } from '../../lib/queue/runner';
import { createRunEventPublisher, createStackRunEventPublisher } from '../../lib/realtime/publisher';
import type { CancelRequests } from '../../lib/runs/cancel-requests';
import { COMMIT_STATUS_JOB } from '../../lib/commit-status/queue';
import { createCommitStatusHandler } from './commit-status';
import { createRunPipelineHandler } from './run-pipeline';
import { createScheduleHandler } from './schedule';
import { DRIFT_JOB } from '../../lib/stacks/drift';
import { STACK_RUN_JOB } from '../../lib/stacks/runs';
import { terraformBinaries } from '../../lib/stacks/terraform/binary';
import { createStackDriftHandler } from './stack-drift';
import { createStackRunHandler } from './stack-run';

export type { JobContext, JobHandler, JobHandlers } from '../../lib/queue/runner';
export type { ClaimedJob } from '../../lib/queue/claim';

/** After SIGINT, how long a cancelled stack run's terraform may take to stop before it is killed. */
const STACK_CANCEL_GRACE_MS = 10_000;

/** Job kinds with a handler in this worker. The API enqueues `run` jobs (payload `{ runId }`). */
/** `cancelRequests`: the worker's LISTEN for run cancels (closed by the worker when it stops). */
export function createJobHandlers(deps: { prisma: PrismaClient; pool: pg.Pool; cancelRequests: CancelRequests }): JobHandlers {
  const executorNames = workerExecutorsFromEnv();
  return {
    // Settings parsed here, at the worker's start: a malformed one stops it before it claims anything.
    run: createRunPipelineHandler({
      prisma: deps.prisma,
      publisher: createRunEventPublisher(deps.pool),
      executorNames,
      sink: { logCapBytes: logCapBytesFromEnv(), dbRetryMs: dbRetryMsFromEnv() },
      cancelRequests: deps.cancelRequests,
    }),
    // The elected scheduler (lib/schedule) enqueues one per due cron slot (payload `{ pipelineId, slot }`).
    schedule: createScheduleHandler({ prisma: deps.prisma }),
    // A run of a forge changed status (lib/commit-status; payload `{ runId, status }`): report it to the forge.
    [COMMIT_STATUS_JOB]: createCommitStatusHandler({ prisma: deps.prisma, pool: deps.pool }),
    // A stack run's plan or apply phase (lib/stacks/runs.ts; payload `{ runId, phase }`): terraform on this host, if it runs host processes.
    [STACK_RUN_JOB]: createStackRunHandler({
      prisma: deps.prisma,
      dataDir: dataDirFromEnv(),
      // terraform reaches the state backend where people reach BuildIt.
      stateBaseUrl: publicUrlFromEnv().href.replace(/\/$/, ''),
      terraform: terraformBinaries(),
      hostProcesses: executorNames.includes('local'),
      cancelGraceMs: STACK_CANCEL_GRACE_MS,
      cancelPollMs: 1_000,
      publisher: createStackRunEventPublisher(deps.pool),
    }),
    // A stack's drift schedule is due (lib/stacks/drift.ts; payload `{ stackId, slot }`): queue its drift run.
    [DRIFT_JOB]: createStackDriftHandler({ prisma: deps.prisma }),
  };
}
