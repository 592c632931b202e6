/**
 * Run and stage state transitions made outside the event stream (the StoreSink writes those of a
 * running run). One place, so every status a run or a stage can take is written here or in the sink.
 */
import type { RunOutcome, RunStatus } from '../events/types';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import type { Tx } from './create-run';
import { notifyCancelRequested } from './cancel-requests';
import { isFinishedRunStatus } from './statuses';
import { messageOf } from '../errors';
import { enqueueCommitStatus } from '../commit-status/queue';
import type { Queryable } from '../db/client';

/**
 * Every change of a run's status calls this in the transaction that made it, AFTER the update (here, in the
 * StoreSink and when a forge's run gets its status target): a run started by a forge gets a `commit_status`
 * job for its new status (lib/commit-status; nothing for other runs). Cheap: one indexed lookup.
 */
export async function runStatusChanged(tx: Queryable, runId: string): Promise<void> {
  await enqueueCommitStatus(tx, runId);
}

/**
 * The worker claims a run: queued → running. The API may cancel a queued run at the same moment; the
 * conditional update decides who wins. Returns the run's status after the attempt (`running` when ours).
 */
export async function claimRun(prisma: PrismaClient, runId: string, current: RunStatus): Promise<RunStatus> {
  if (current !== 'queued') return current;
  return prisma.$transaction(async (tx): Promise<RunStatus> => {
    const claimed = await tx.pipelineRun.updateMany({ where: { id: runId, status: 'queued' }, data: { status: 'running', waitingFor: Prisma.DbNull } });
    if (claimed.count === 1) {
      await runStatusChanged(tx, runId);
      return 'running';
    }
    return (await tx.pipelineRun.findUniqueOrThrow({ where: { id: runId }, select: { status: true } })).status;
  });
}

/**
 * A cancel: a queued run is cancelled at once (with its not-started stages); a running one gets
 * `cancelRequestedAt`, and its worker, told at commit (cancel-requests.ts), stops it (asking again changes nothing). Each step is a conditional
 * update, so a run that changes state meanwhile (claimed, finished) takes the branch of its new state.
 * Returns what happened: cancelled, requested, already finished (with its status), or gone.
 */
export type CancelOutcome = { kind: 'cancelled' | 'requested' | 'gone' } | { kind: 'finished'; status: RunOutcome };

export async function requestRunCancel(tx: Tx, runId: string, now: Date): Promise<CancelOutcome> {
  const cancelledQueued = await tx.pipelineRun.updateMany({
    where: { id: runId, status: 'queued' },
    data: { status: 'cancelled', cancelRequestedAt: now, finishedAt: now },
  });
  if (cancelledQueued.count === 1) {
    await tx.stageRun.updateMany({
      where: { runId, status: { in: ['pending', 'queued', 'waiting_approval'] } },
      data: { status: 'cancelled', reason: 'run cancelled before it started', finishedAt: now },
    });
    await runStatusChanged(tx, runId);
    return { kind: 'cancelled' };
  }
  await tx.pipelineRun.updateMany({ where: { id: runId, status: 'running', cancelRequestedAt: null }, data: { cancelRequestedAt: now } });
  const current = await tx.pipelineRun.findUnique({ where: { id: runId }, select: { status: true } });
  if (!current) return { kind: 'gone' };
  if (isFinishedRunStatus(current.status)) return { kind: 'finished', status: current.status };
  await notifyCancelRequested(tx, runId);
  return { kind: 'requested' };
}

/** The executor handle of a stage's running attempt (container id, pgid), for recovery and support. */
export async function recordStageHandle(prisma: PrismaClient, stageRunId: string, handleId: string): Promise<void> {
  await prisma.stageRun.update({ where: { id: stageRunId }, data: { handleId } });
}

/** Stages a re-run was going to reuse go back to `pending`, with the reason, to run again. */
export async function unreuseStages(prisma: PrismaClient, stageRunIds: string[], reason: string): Promise<void> {
  await prisma.stageRun.updateMany({
    where: { id: { in: stageRunIds }, status: 'succeeded', startedAt: null },
    data: { status: 'pending', reason, exitCode: null, finishedAt: null },
  });
}

/** After an internal error (e.g. the database went away mid-run): the run and its unfinished stages fail. */
export async function failRunOnInternalError(prisma: PrismaClient, runId: string, error: unknown): Promise<void> {
  const reason = `internal error: ${messageOf(error)}`.slice(0, 2000);
  const now = new Date();
  await prisma.$transaction(async (tx) => {
    await tx.stageRun.updateMany({
      where: { runId, status: { in: ['pending', 'queued', 'waiting_approval', 'running'] } },
      data: { status: 'failed', reason, finishedAt: now },
    });
    const failed = await tx.pipelineRun.updateMany({ where: { id: runId, status: 'running' }, data: { status: 'failed', finishedAt: now } });
    if (failed.count === 1) await runStatusChanged(tx, runId);
  });
}
