/**
 * Concurrency groups (`pipeline { group "NAME" cancel-in-progress=#true; }`): at most one run of a
 * group runs at a time in a tenant. The state is the runs' own rows (status, group, creation time), so
 * nothing can be left held by a crashed worker: a run holds its group exactly while it is unfinished,
 * and a dead worker's run is resumed (and finished) by the next one.
 *
 * A run whose turn has not come is not claimed (it stays `queued`, with `waitingFor`): its job goes back
 * to the queue (JobDeferred) and takes no worker slot. When a run of a group finishes, a trigger
 * (migration 20261209100100) makes the group's queued jobs due at once; GROUP_RECHECK_MS is the fallback.
 */
import type { PrismaClient } from '../generated/prisma/client';
import type { Tx } from './create-run';
import { requestRunCancel } from './transitions';

const UNFINISHED = ['queued', 'running'] as const;

/** The older unfinished runs of the group in the tenant, oldest first. */
async function olderRuns(db: Tx | PrismaClient, run: { id: string; tenantId: string; group: string; createdAt: Date }) {
  return db.pipelineRun.findMany({
    where: {
      concurrencyGroup: run.group,
      status: { in: [...UNFINISHED] },
      id: { not: run.id },
      createdAt: { lte: run.createdAt },
      pipeline: { tenantId: run.tenantId },
    },
    orderBy: { createdAt: 'asc' },
    select: { id: true, number: true, createdAt: true },
  });
}

/** `cancel-in-progress`: a new run cancels the older unfinished runs of its group (in the transaction that creates it). */
export async function cancelSupersededRuns(tx: Tx, run: { id: string; tenantId: string; group: string; createdAt: Date }): Promise<void> {
  for (const older of await olderRuns(tx, run)) await requestRunCancel(tx, older.id, run.createdAt);
}

/** How long a run waiting for its group stays deferred when nothing wakes it earlier (see the migration's trigger). */
export const GROUP_RECHECK_MS = 10_000;

/**
 * The oldest unfinished run of the group created before this one (runs start in creation order), or
 * null when it may start. Same creation time: the id breaks the tie, so two such runs never wait for each other.
 */
export async function groupRunAhead(
  prisma: PrismaClient,
  run: { id: string; tenantId: string; group: string; createdAt: Date },
): Promise<{ id: string; number: number } | null> {
  const older = await olderRuns(prisma, run);
  const ahead = older.find((o) => o.createdAt < run.createdAt || o.id < run.id);
  return ahead ? { id: ahead.id, number: ahead.number } : null;
}
