/** Pipelines: what the API does, independent of HTTP. */
import type { z } from 'zod';
import type { Action, Actor } from '../../auth/authorize';
import type { RequestOrigin } from '../../auth/request-origin';
import { loadPipeline, type Diagnostic, type LoadOptions, type PipelineSpec } from '../../pipeline';
import type { PrismaClient } from '../db';
import { requireTenantAction } from '../access';
import { recordAudit } from '../audit';
import { ApiError, notFound } from '../errors';
import { keysetArgs, toPage } from '../pagination';
import type { CreatePipelineBody, ListPipelinesQuery, UpdatePipelineBody } from '../schemas/pipelines';
import { pipelineDto, pipelineSummaryDto } from '../serialize';
import { conflictAs } from './conflict';
import { slugify } from '../../slug';
import { loadTenantFor } from './tenants';

function diagnosticDto(d: Diagnostic) {
  return {
    severity: d.severity,
    message: d.message,
    file: d.file,
    line: d.line,
    column: d.column,
    rule: d.rule,
    ...(d.hint !== undefined ? { hint: d.hint } : {}),
  };
}

/**
 * Parses and validates KDL; 422 `invalid_pipeline` with every diagnostic when it has errors. `includes`: the
 * files a config read from a repository includes, by path (see lib/pipeline/includes.ts). `stacks`: the slugs
 * of the tenant's stacks, which `stack` stages may name (tenantStacks).
 */
export function checkConfig(config: string, file: string, includes?: Record<string, string>, stacks?: readonly string[]): PipelineSpec {
  const { spec, diagnostics } = loadPipeline(config, file, { ...(includes ? includeOptions(file, includes) : {}), ...(stacks ? { stacks } : {}) });
  if (spec === null) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    const first = errors[0];
    const summary = first ? `${first.file}:${first.line}:${first.column}: ${first.message}` : 'the pipeline could not be read';
    throw new ApiError(
      'invalid_pipeline',
      422,
      `the pipeline config has ${errors.length || 1} error${errors.length === 1 ? '' : 's'}; first: ${summary}`,
      diagnostics.map(diagnosticDto),
    );
  }
  return spec;
}

const slugTaken = (slug: string) => `a pipeline with slug "${slug}" already exists in this tenant: choose another slug`;

/** The pipeline with its tenant's organization, after checking the actor may do `action` (404 when it may not see it). */
export async function loadPipelineFor(prisma: PrismaClient, actor: Actor, pipelineId: string, action: Action) {
  const pipeline = await prisma.pipeline.findUnique({ where: { id: pipelineId }, include: { tenant: { select: { organizationId: true } } } });
  if (!pipeline) throw notFound('pipeline');
  requireTenantAction(actor, action, { id: pipeline.tenantId, organizationId: pipeline.tenant.organizationId }, 'pipeline');
  return pipeline;
}

export async function listPipelines(prisma: PrismaClient, actor: Actor, tenantId: string, query: z.output<typeof ListPipelinesQuery>) {
  await loadTenantFor(prisma, actor, tenantId, 'pipeline.read');
  const keyset = keysetArgs(query);
  const search = query.q
    ? { OR: [{ name: { contains: query.q, mode: 'insensitive' as const } }, { slug: { contains: query.q, mode: 'insensitive' as const } }] }
    : {};
  const rows = await prisma.pipeline.findMany({
    where: { AND: [{ tenantId, archivedAt: null }, search, keyset.where] },
    orderBy: keyset.orderBy,
    take: keyset.take,
    include: {
      runs: { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 1, select: { id: true, number: true, status: true, branch: true, createdAt: true } },
    },
  });
  return toPage(rows, query, ({ runs, ...pipeline }) => ({ ...pipelineSummaryDto(pipeline), lastRun: runs[0] ?? null }));
}

export async function createPipeline(
  prisma: PrismaClient,
  actor: Actor,
  tenantId: string,
  body: z.output<typeof CreatePipelineBody>,
  origin: RequestOrigin | null,
) {
  await loadTenantFor(prisma, actor, tenantId, 'pipeline.create');
  if (body.config != null) checkConfig(body.config, body.configPath, undefined, await tenantStacks(prisma, tenantId));
  const slug = body.slug ?? slugify(body.name, 'pipeline');
  const pipeline = await conflictAs(slugTaken(slug), () =>
    prisma.$transaction(async (tx) => {
      const created = await tx.pipeline.create({
        data: {
          tenantId,
          name: body.name,
          slug,
          repository: body.repository ?? null,
          defaultBranch: body.defaultBranch,
          config: body.config ?? null,
          configPath: body.configPath,
          cloneDepth: body.cloneDepth,
          submodules: body.submodules,
          credentialsSecret: body.credentialsSecret ?? null,
        },
      });
      await recordAudit(tx, actor, {
        action: 'pipeline.create',
        tenantId,
        targetType: 'pipeline',
        targetId: created.id,
        details: { slug, name: body.name },
        origin,
      });
      return created;
    }),
  );
  return pipelineDto(pipeline);
}

export async function getPipeline(prisma: PrismaClient, actor: Actor, pipelineId: string) {
  return pipelineDto(await loadPipelineFor(prisma, actor, pipelineId, 'pipeline.read'));
}

export async function updatePipeline(
  prisma: PrismaClient,
  actor: Actor,
  pipelineId: string,
  body: z.output<typeof UpdatePipelineBody>,
  origin: RequestOrigin | null,
) {
  const current = await loadPipelineFor(prisma, actor, pipelineId, 'pipeline.update');
  const config = body.config === undefined ? current.config : body.config;
  const configPath = body.configPath ?? current.configPath;
  if (body.config != null) checkConfig(body.config, configPath, undefined, await tenantStacks(prisma, current.tenantId));
  if (config === null && (body.repository === undefined ? current.repository : body.repository) === null) {
    throw new ApiError('validation_failed', 422, 'a pipeline needs a `config` (KDL) or a `repository` to read it from', [
      { path: 'config', message: 'a pipeline needs a config or a repository', code: 'custom' },
    ]);
  }
  const updated = await conflictAs(slugTaken(body.slug ?? current.slug), () =>
    prisma.$transaction(async (tx) => {
      const row = await tx.pipeline.update({ where: { id: pipelineId }, data: body });
      await recordAudit(tx, actor, {
        action: 'pipeline.update',
        tenantId: current.tenantId,
        targetType: 'pipeline',
        targetId: pipelineId,
        details: { fields: Object.keys(body).sort() },
        origin,
      });
      return row;
    }),
  );
  return pipelineDto(updated);
}

export async function deletePipeline(prisma: PrismaClient, actor: Actor, pipelineId: string, origin: RequestOrigin | null): Promise<void> {
  const pipeline = await loadPipelineFor(prisma, actor, pipelineId, 'pipeline.delete');
  await prisma.$transaction(async (tx) => {
    // Lock the row: a trigger takes the same lock (nextRunNumber), so no run can appear between the check and the delete.
    const locked = await tx.$queryRawUnsafe<Array<{ id: string }>>('SELECT id FROM pipelines WHERE id = $1 FOR UPDATE', pipelineId);
    if (locked.length === 0) throw notFound('pipeline');
    const active = await tx.pipelineRun.count({ where: { pipelineId, status: { in: ['queued', 'running'] } } });
    if (active > 0) {
      throw new ApiError('pipeline_busy', 409, `the pipeline has ${active} queued or running run(s): cancel them before deleting it`, { activeRuns: active });
    }
    await tx.pipeline.delete({ where: { id: pipelineId } });
    await recordAudit(tx, actor, {
      action: 'pipeline.delete',
      tenantId: pipeline.tenantId,
      targetType: 'pipeline',
      targetId: pipelineId,
      details: { slug: pipeline.slug, name: pipeline.name },
      origin,
    });
  });
}

/** `include` reads these files (already read from the repository at the run's commit). */
/** The slugs of a tenant's stacks: what a pipeline's `stack "SLUG"` stages may name. */
export async function tenantStacks(prisma: PrismaClient, tenantId: string): Promise<string[]> {
  return (await prisma.stack.findMany({ where: { tenantId }, select: { slug: true }, orderBy: { slug: 'asc' } })).map((stack) => stack.slug);
}

export function includeOptions(file: string, includes: Record<string, string>): LoadOptions {
  return { pathInRepository: file, readInclude: (path) => (Object.hasOwn(includes, path) ? includes[path]! : null) };
}
