/** The runs of every pipeline of a tenant, newest first, with their pipeline. */
import type { z } from 'zod';
import type { Actor } from '../../auth/authorize';
import type { PrismaClient } from '../db';
import { keysetArgs, toPage } from '../pagination';
import type { ListTenantRunsQuery } from '../schemas/tenant-runs';
import { runSummaryDto } from '../serialize';
import { loadTenantFor } from './tenants';

export async function listTenantRuns(prisma: PrismaClient, actor: Actor, tenantId: string, query: z.output<typeof ListTenantRunsQuery>) {
  await loadTenantFor(prisma, actor, tenantId, 'run.read');
  const keyset = keysetArgs(query);
  const rows = await prisma.pipelineRun.findMany({
    where: {
      AND: [
        // The tenant comes from the pipeline row: a pipelineId of another tenant matches nothing.
        { pipeline: { tenantId } },
        query.pipelineId ? { pipelineId: query.pipelineId } : {},
        query.status ? { status: query.status } : {},
        query.branch ? { branch: query.branch } : {},
        keyset.where,
      ],
    },
    include: { pipeline: { select: { id: true, name: true, slug: true } } },
    orderBy: keyset.orderBy,
    take: keyset.take,
  });
  return toPage(rows, query, ({ pipeline, ...run }) => ({ ...runSummaryDto(run), pipeline }));
}
