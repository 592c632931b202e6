/**
 * Concurrency groups (`pipeline { group "NAME" cancel-in-progress=#true; }`): at most one run of a
 * group runs at a time in a tenant. The state is the runs' own rows (status, group, creation time), so
 * nothing can be left held by a crashed worker: a run holds its group exactly while it is unfinished,
 * and a dead worker's run is resumed (and finished) by the next one.
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

/**
 * Waits until no older run of the group is unfinished (runs start in the order they were created), or
 * until `signal` aborts. Polls: a group changes hands at most once per run, so a second's delay is fine.
 */
export async function waitForGroup(
  prisma: PrismaClient,
  run: { id: string; tenantId: string; group: string; createdAt: Date },
  signal: AbortSignal,
  onWaiting: (runNumbers: number[]) => void,
  pollMs = 500,
): Promise<void> {
  let reported = '';
  while (!signal.aborted) {
    const older = await olderRuns(prisma, run);
    // Same creation time: the id breaks the tie, so two such runs never wait for each other.
    const ahead = older.filter((o) => o.createdAt < run.createdAt || o.id < run.id);
    if (ahead.length === 0) return;
    const numbers = ahead.map((o) => o.number);
    if (numbers.join() !== reported) onWaiting(numbers);
    reported = numbers.join();
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, pollMs);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
