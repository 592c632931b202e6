/**
 * What a subscriber reads from the database: the run (for authorization and the snapshot) and the log
 * chunks it has not seen yet, in the same shape as the live `stage.log_chunk` events.
 */
import type pg from 'pg';
import { authorize, type Actor } from '../auth/authorize';
import type { StageLogChunkEvent } from '../events/server-events';
import type { RunStatus, StageStatus } from '../events/types';
import type { PrismaClient } from '../generated/prisma/client';
import { lastChunkSeqs, readChunkPage } from '../runs/log-chunks';
import { chunkLines } from '../runs/log-lines';
import type { RunSnapshot } from './protocol';

/** Chunks read per query during a catch-up (a long log is sent page by page). */
export const CATCH_UP_PAGE = 500;

/** A run the actor may read, or null: unknown ids and other tenants' runs look the same (never reveal existence). */
export async function findReadableRun(prisma: PrismaClient, actor: Actor, runId: string): Promise<{ tenantId: string } | null> {
  const run = await prisma.pipelineRun.findUnique({
    where: { id: runId },
    select: { pipeline: { select: { tenantId: true, tenant: { select: { organizationId: true } } } } },
  });
  if (!run) return null;
  const resource = { type: 'tenant' as const, organizationId: run.pipeline.tenant.organizationId, tenantId: run.pipeline.tenantId };
  return authorize(actor, 'run.read', resource).allowed ? { tenantId: run.pipeline.tenantId } : null;
}

/** Whether the actor may follow the runs of this tenant (same rule as reading one of its runs). */
export async function canReadTenantRuns(prisma: PrismaClient, actor: Actor, tenantId: string): Promise<boolean> {
  const tenant = await prisma.tenant.findUnique({ where: { id: tenantId }, select: { organizationId: true } });
  if (!tenant) return false;
  return authorize(actor, 'run.read', { type: 'tenant', organizationId: tenant.organizationId, tenantId }).allowed;
}

/** The run and its stages as stored now, with the last chunk seq of each stage run. */
export async function readRunSnapshot(prisma: PrismaClient, pool: pg.Pool, runId: string): Promise<RunSnapshot | null> {
  const run = await prisma.pipelineRun.findUnique({
    where: { id: runId },
    include: { pipeline: { select: { tenantId: true } }, stages: { orderBy: { createdAt: 'asc' } } },
  });
  if (!run) return null;
  const lastSeq = await lastChunkSeqs(pool, runId);
  const order = planOrder(run.plan);
  const stages = [...run.stages].sort((a, b) => (order.get(a.stageId) ?? Infinity) - (order.get(b.stageId) ?? Infinity));
  return {
    runId: run.id,
    tenantId: run.pipeline.tenantId,
    pipelineId: run.pipelineId,
    number: run.number,
    status: run.status as RunStatus,
    cancelRequested: run.cancelRequestedAt !== null,
    stages: stages.map((stage) => ({
      id: stage.id,
      stage: stage.stageId,
      name: stage.name,
      needs: stage.needs,
      status: stage.status as StageStatus,
      attempt: stage.attempt,
      exitCode: stage.exitCode,
      reason: stage.reason,
      lastSeq: lastSeq.get(stage.id) ?? 0,
    })),
  };
}

/** Stage order of the plan (topological), so a snapshot lists stages the way the run shows them. */
function planOrder(plan: unknown): Map<string, number> {
  const order = new Map<string, number>();
  const stages = (plan as { stages?: unknown } | null)?.stages;
  if (Array.isArray(stages)) {
    stages.forEach((stage: unknown, index) => {
      const id = (stage as { id?: unknown } | null)?.id;
      if (typeof id === 'string') order.set(id, index);
    });
  }
  return order;
}

/**
 * The chunks of one stage run with seq > `after`, oldest first, one page of at most `limit`, in the shape
 * of the live `stage.log_chunk` events.
 */
export async function readChunksAfter(
  pool: pg.Pool,
  stage: { runId: string; stageRunId: string; stage: string },
  after: number,
  limit: number = CATCH_UP_PAGE,
): Promise<StageLogChunkEvent[]> {
  const chunks = await readChunkPage(pool, stage.stageRunId, after, limit);
  return chunks.map((chunk) => ({
    type: 'stage.log_chunk',
    time: chunk.createdAt.toISOString(),
    runId: stage.runId,
    stage: stage.stage,
    stageRunId: stage.stageRunId,
    seq: chunk.seq,
    firstLine: chunk.firstLine,
    lines: chunkLines(chunk),
  }));
}
