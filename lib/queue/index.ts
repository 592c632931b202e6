// The job queue: a table we own (jobs), one module per hot SQL statement (graphile-worker's shape), plus
// the runner that ties them together. See runner.ts for the loop, claim.ts for the claim/takeover SQL,
// fail.ts for the backoff schedule.
export { claimNextJob, type ClaimedJob, type ClaimOptions, type ExhaustedJob } from './claim';
export { enqueueJob, type EnqueueJob, type EnqueuedJob } from './enqueue';
export { renewLease } from './lease';
export { completeJob } from './complete';
export { failJob, retryDelaySeconds, MAX_RETRY_DELAY_SECONDS, type FailResult } from './fail';
export { releaseJob } from './release';
export { JobDeferred } from './defer';
export { JobListener, JOBS_CHANNEL, type JobListenerOptions } from './listen';
export {
  JobRunner,
  type JobContext,
  type JobHandler,
  type JobHandlers,
  type JobOutcome,
  type JobRunnerEvents,
  type JobRunnerOptions,
  type JobRunnerStats,
  type WakeReason,
} from './runner';
