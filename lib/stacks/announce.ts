/**
 * A stack run's `stack_run.event` (docs/realtime.md): its status and last log chunk as stored, for the
 * browsers of its tenant, who re-read what changed. The worker announces what it stores (worker/jobs/
 * stack-run/announce.ts); the API announces the decisions people make (approve, discard, cancel) inside
 * their transaction, so the event goes out when, and only if, the decision commits.
 */
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import { createStackRunEventPublisherOn } from '../realtime/publisher';
import type { StackRunEvent } from '../realtime/protocol';

type Db = Prisma.TransactionClient | PrismaClient;

/** The run's event and its stack's tenant; null when the run is gone. */
export async function stackRunEvent(db: Db, runId: string): Promise<{ tenantId: string; event: StackRunEvent } | null> {
  const run = await db.stackRun.findUnique({
    where: { id: runId },
    select: { status: true, stackId: true, cancelRequestedAt: true, planKeyId: true, stack: { select: { tenantId: true } } },
  });
  if (!run) return null;
  const last = await db.stackRunLogChunk.findFirst({ where: { runId }, orderBy: { seq: 'desc' }, select: { seq: true } });
  return {
    tenantId: run.stack.tenantId,
    event: {
      stackRunId: runId,
      stackId: run.stackId,
      status: run.status,
      lastSeq: last?.seq ?? 0,
      cancelRequested: run.cancelRequestedAt !== null,
      planStored: run.planKeyId !== null,
    },
  };
}

/** Announces the run as `tx` sees it; PostgreSQL delivers the NOTIFY when `tx` commits (never when it rolls back). */
export async function announceOnCommit(tx: Prisma.TransactionClient, runId: string): Promise<void> {
  const found = await stackRunEvent(tx, runId);
  if (found) await createStackRunEventPublisherOn(tx).publish(found.tenantId, found.event);
}
