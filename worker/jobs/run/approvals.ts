/**
 * The server's answer to an `approval` stage: wait for a person's decision in the database (StageApproval,
 * written by POST .../stages/{stageRunId}/approve or /deny; lib/runs/approvals.ts). The orchestrator has
 * already stored the stage as `waiting_approval` (its `stage.waiting_approval` event) when it asks.
 *
 * A short poll of one indexed row per waiting stage: approvals are rare and a person takes seconds, so a
 * LISTEN session is not worth it. Nothing is kept in memory: a worker that takes the run over asks again and
 * finds the decision, made before or after the restart. Database outages only delay the answer.
 */
import type { ApprovalDecision, ApprovalPolicy } from '../../../lib/engine/orchestrator';
import type { PrismaClient } from '../../../lib/generated/prisma/client';
import type { Logger } from '../../../lib/log';
import { readApprovalDecision } from '../../../lib/runs/approvals';

export const DEFAULT_APPROVAL_POLL_MS = 1000;

export interface WebApprovalsOptions {
  prisma: PrismaClient;
  /** StageRun ids by planned stage id. */
  stageRunIds: ReadonlyMap<string, string>;
  /** The run stopping (cancel, hand-back): waiting ends. */
  signal: AbortSignal;
  pollMs?: number;
  log?: Logger;
}

export function webApprovals(options: WebApprovalsOptions): ApprovalPolicy {
  const pollMs = options.pollMs ?? DEFAULT_APPROVAL_POLL_MS;
  return async (stageId) => {
    const stageRunId = options.stageRunIds.get(stageId);
    if (!stageRunId) return { approved: false, reason: `approval required, and stage "${stageId}" has no stage run to approve` };
    while (!options.signal.aborted) {
      const decision = await readApprovalDecision(options.prisma, stageRunId).catch((error: unknown) => {
        options.log?.warn({ err: error, stageId }, 'could not read the approval decision; trying again');
        return null;
      });
      if (decision) return answer(decision);
      await pause(pollMs, options.signal);
    }
    // The orchestrator stopped waiting already (the stop wins the race); this answer is never used.
    return { approved: false, reason: 'run stopped' };
  };
}

function answer(decision: { approved: boolean; decidedBy: string | null }): ApprovalDecision {
  if (decision.approved) return true;
  return { approved: false, reason: decision.decidedBy ? `approval denied by ${decision.decidedBy}` : 'approval denied' };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
