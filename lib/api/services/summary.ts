/**
 * A tenant's activity for the dashboard: its runs since a time (counts, durations, median), its active runs,
 * and the organization's queue and busy workers. Nothing records idle workers (the queue only knows job
 * leases, renewed by the heartbeats of the workers running them), so workers are counted while they run a job.
 */
import type { z } from 'zod';
import type { Actor } from '../../auth/authorize';
import { median } from '../../runs/median';
import type { PrismaClient } from '../db';
import type { SummaryQuery, TenantSummary } from '../schemas/summary';
import { loadTenantFor } from './tenants';

const DAY_MS = 24 * 3600 * 1000;

export async function getTenantSummary(prisma: PrismaClient, actor: Actor, tenantId: string, query: z.output<typeof SummaryQuery>): Promise<TenantSummary> {
  const tenant = await loadTenantFor(prisma, actor, tenantId, 'run.read');
  const since = query.since ? new Date(query.since) : new Date(Date.now() - DAY_MS);
  const ofTenant = { pipeline: { tenantId } };
  const [byStatus, finished, active, queuedRuns, busyWorkers] = await Promise.all([
    prisma.pipelineRun.groupBy({ by: ['status'], where: { ...ofTenant, createdAt: { gte: since } }, _count: { _all: true } }),
    prisma.pipelineRun.findMany({
      where: { ...ofTenant, createdAt: { gte: since }, startedAt: { not: null }, finishedAt: { not: null } },
      select: { startedAt: true, finishedAt: true },
    }),
    prisma.pipelineRun.findMany({
      where: { ...ofTenant, status: { in: ['queued', 'running'] } },
      select: { id: true, status: true, createdAt: true },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    }),
    prisma.pipelineRun.count({ where: { status: 'queued', pipeline: { tenant: { organizationId: tenant.organizationId } } } }),
    countBusyWorkers(prisma, tenant.organizationId),
  ]);
  const runs = { total: 0, queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
  for (const row of byStatus) {
    runs[row.status] = row._count._all;
    runs.total += row._count._all;
  }
  const durationsMs = finished.map((run) => Math.max(0, run.finishedAt!.getTime() - run.startedAt!.getTime())).sort((a, b) => a - b);
  return {
    tenantId,
    since: since.toISOString(),
    runs,
    durationsMs,
    medianDurationMs: median(durationsMs),
    active: active.map((run) => ({ id: run.id, status: run.status as 'queued' | 'running', createdAt: run.createdAt.toISOString() })),
    organization: { queuedRuns, busyWorkers },
  };
}

/** Distinct workers holding a live lease on a `run` job of the organization (lib/queue/lease.ts). */
async function countBusyWorkers(prisma: PrismaClient, organizationId: string): Promise<number> {
  const [row] = await prisma.$queryRaw<Array<{ busy: number }>>`
    SELECT count(DISTINCT j.locked_by)::int AS busy
    FROM jobs j
    JOIN pipeline_runs r ON r.id = j.payload->>'runId'
    JOIN pipelines p ON p.id = r.pipeline_id
    JOIN tenants t ON t.id = p.tenant_id
    WHERE j.kind = 'run' AND j.status = 'running' AND j.lease_expires_at > now() AND t.organization_id = ${organizationId}`;
  return row?.busy ?? 0;
}
