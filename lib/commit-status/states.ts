/**
 * A run's status as a forge's commit status (docs/webhooks.md, "Commit status"). The run status is what is
 * stored and compared (`rank`: a status is never replaced by one of a lower rank); each forge's state and
 * the description are made from it when sending.
 */
import type { ForgeName } from '../forges/types';

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type ReportedRunStatus = (typeof RUN_STATUSES)[number];

export function isReportedRunStatus(value: unknown): value is ReportedRunStatus {
  return typeof value === 'string' && (RUN_STATUSES as readonly string[]).includes(value);
}

/** Order of the states of a run: queued < running < finished (a run never leaves a finished status). */
export function rank(status: ReportedRunStatus): number {
  return status === 'queued' ? 0 : status === 'running' ? 1 : 2;
}

const STATES: Record<ForgeName, Record<ReportedRunStatus, string>> = {
  // GitHub: error, failure, pending, success.
  github: { queued: 'pending', running: 'pending', succeeded: 'success', failed: 'failure', cancelled: 'error' },
  // GitLab: pending, running, success, failed, canceled.
  gitlab: { queued: 'pending', running: 'running', succeeded: 'success', failed: 'failed', cancelled: 'canceled' },
  // Gitea/Forgejo: pending, success, error, failure, warning.
  gitea: { queued: 'pending', running: 'pending', succeeded: 'success', failed: 'failure', cancelled: 'error' },
};

/** The forge's state for a run status. */
export function forgeState(forge: ForgeName, status: ReportedRunStatus): string {
  return STATES[forge][status];
}

const WORDS: Record<ReportedRunStatus, string> = {
  queued: 'is queued',
  running: 'is running',
  succeeded: 'passed',
  failed: 'failed',
  cancelled: 'was cancelled',
};

/** `BuildIt run #12 passed` (GitHub caps descriptions at 140 characters). */
export function describeStatus(runNumber: number, status: ReportedRunStatus): string {
  return `BuildIt run #${runNumber} ${WORDS[status]}`.slice(0, 140);
}
