/**
 * Drift checks on a schedule. The elected scheduler (lib/schedule) calls `enqueueDueDriftChecks` on every
 * tick: each stack whose `driftSchedule` has a slot due in the tick's window gets a `stack_drift` job (dedupe
 * key per stack and slot, so a slot is checked once whoever ticks). The job (`createDriftRun`) queues a
 * `drift` run: `plan -detailed-exitcode`, which marks the stack drifted when it finds changes (worker
 * stack-run/plan.ts).
 */
import type { PrismaClient } from '../generated/prisma/client';
import type { Queryable } from '../db/client';
import { queryRows } from '../db/client';
import { enqueueJob } from '../queue/enqueue';
import { dueSlot } from '../schedule/slots';
import { createStackRun } from './runs';

export const DRIFT_JOB = 'stack_drift';

export interface DriftJobPayload {
  stackId: string;
  slot: string;
}

/** Enqueues the drift check of every stack with a slot in (after, now]; returns how many were new. */
export async function enqueueDueDriftChecks(db: Queryable, prisma: PrismaClient, after: Date, now: Date): Promise<number> {
  const stacks = await prisma.stack.findMany({ where: { driftSchedule: { not: null } }, select: { id: true, driftSchedule: true, updatedAt: true } });
  let created = 0;
  for (const stack of stacks) {
    // A schedule added or changed after a slot does not fire that slot.
    const from = stack.updatedAt.getTime() > after.getTime() ? stack.updatedAt : after;
    const slot = dueSlot([stack.driftSchedule!], from, now);
    if (!slot) continue;
    const payload: DriftJobPayload = { stackId: stack.id, slot: slot.toISOString() };
    const job = await enqueueJob(db, { kind: DRIFT_JOB, payload, dedupeKey: `stack-drift:${stack.id}:${payload.slot}`, maxAttempts: 5 });
    if (job.created) created++;
  }
  return created;
}

/**
 * The `stack_drift` job: queues the stack's drift run once (the run id is written into the job row in the
 * same transaction, so a job that runs twice finds it). Returns the run id, or null when the stack is gone.
 */
export async function createDriftRun(prisma: PrismaClient, job: { id: string; payload: DriftJobPayload }): Promise<string | null> {
  return prisma.$transaction(async (tx) => {
    const [row] = await queryRows<{ run_id: string | null }>(tx, `SELECT payload->>'runId' AS run_id FROM jobs WHERE id = $1::uuid FOR UPDATE`, [job.id]);
    if (row?.run_id) return row.run_id;
    const stack = await tx.stack.findUnique({ where: { id: job.payload.stackId }, select: { id: true } });
    if (!stack) return null;
    const run = await createStackRun(tx, { stackId: stack.id, kind: 'drift', event: 'schedule', triggeredById: null, triggeredBy: 'schedule' });
    await tx.$executeRawUnsafe(`UPDATE jobs SET payload = payload || jsonb_build_object('runId', $2::text) WHERE id = $1::uuid`, job.id, run.id);
    return run.id;
  });
}
