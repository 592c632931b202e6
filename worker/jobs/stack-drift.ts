/** The `stack_drift` job (payload `{ stackId, slot }`, enqueued by the scheduler): queues the stack's drift run (lib/stacks/drift.ts). */
import { z } from 'zod';
import type { PrismaClient } from '../../lib/db/client';
import type { JobHandler } from '../../lib/queue/runner';
import { createDriftRun } from '../../lib/stacks/drift';

const Payload = z.object({ stackId: z.string().min(1), slot: z.string().min(1) });

export function createStackDriftHandler(deps: { prisma: PrismaClient }): JobHandler {
  return async (job, ctx) => {
    const payload = Payload.parse(job.payload);
    const runId = await createDriftRun(deps.prisma, { id: job.id, payload });
    if (runId) ctx.log.info({ ...payload, stackRunId: runId }, 'drift check queued');
    else ctx.log.info(payload, 'drift check skipped: the stack no longer exists');
  };
}
