/**
 * The worker's job handlers, by job kind. A job whose kind has no entry here is failed by the runner with
 * a message naming the kinds this worker handles.
 *
 * To add a kind: write `worker/jobs/<kind>.ts` exporting a `JobHandler` and add it below, e.g.
 *   import { runJob } from './run';
 *   export const jobHandlers: JobHandlers = { run: runJob };
 * A handler receives the claimed job (`payload` is unvalidated JSON: parse it with zod) and a context whose
 * `signal` is aborted when the worker shuts down (the job is handed back) or loses the lease; it must stop
 * promptly then. Throwing fails the attempt (retried with backoff up to max_attempts). Handlers must be
 * idempotent: a job runs at least once (a crashed worker's job is run again by another one).
 */
import type { JobHandler, JobHandlers } from '../../lib/queue/runner';

export type { JobContext, JobHandler, JobHandlers } from '../../lib/queue/runner';
export type { ClaimedJob } from '../../lib/queue/claim';

/** Job kinds with a handler in this worker. The API enqueues `run` jobs (payload `{ runId }`). */
export const jobHandlers: JobHandlers = {} satisfies Record<string, JobHandler>;
