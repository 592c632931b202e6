/**
 * The `commit_status` job (payload `{ runId, status }`, enqueued in the transaction that changes the status
 * of a run started by a forge: lib/commit-status/queue.ts): reports the run's latest status to the forge
 * (lib/commit-status/deliver.ts). A forge that is down or refuses fails the attempt, retried with the queue's
 * backoff; the run itself never waits for it. Logs name the run, the state and the forge's URL, never the token.
 */
import type pg from 'pg';
import { z } from 'zod';
import { deliverCommitStatus } from '../../lib/commit-status/deliver';
import type { PrismaClient } from '../../lib/db/client';
import type { JobHandler } from '../../lib/queue/runner';

const CommitStatusJobPayload = z.object({ runId: z.string().min(1) });

export function createCommitStatusHandler(deps: { prisma: PrismaClient; pool: pg.Pool }): JobHandler {
  return async (job, ctx) => {
    const { runId } = CommitStatusJobPayload.parse(job.payload);
    const outcome = await deliverCommitStatus(deps, runId, ctx.signal);
    switch (outcome.outcome) {
      case 'sent':
        ctx.log.info({ runId, status: outcome.status, state: outcome.state, attempt: ctx.attempt }, 'commit status sent');
        break;
      case 'no-token':
        ctx.log.warn({ runId }, 'commit status not sent: the pipeline webhook names no status token secret');
        break;
      default:
        ctx.log.debug({ runId, ...outcome }, 'commit status: nothing to send');
    }
  };
}
