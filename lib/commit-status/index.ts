/** Commit statuses reported to the forge a run came from (docs/webhooks.md, "Commit status"). */
export { attachStatusTarget, COMMIT_STATUS_JOB, COMMIT_STATUS_MAX_ATTEMPTS, enqueueCommitStatus, type CommitStatusPayload } from './queue';
export { deliverCommitStatus, runPageUrl, type DeliveryOutcome } from './deliver';
export { CommitStatusError, redact, sendCommitStatus, statusRequest, STATUS_TIMEOUT_MS, type CommitStatus } from './send';
export { describeStatus, forgeState, rank, RUN_STATUSES, type ReportedRunStatus } from './states';
