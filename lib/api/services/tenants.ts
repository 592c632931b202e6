/** Tenants: what the API does, independent of HTTP. */
import type { z } from 'zod';
import { seesAllTenants, type Actor } from '../../auth/authorize';
import type { RequestOrigin } from '../../auth/request-origin';
import type { PrismaClient } from '../db';
import { requireOrganizationAction, requireTenantAction } from '../access';
import { recordAudit } from '../audit';
import { ApiError, notFound } from '../errors';
import { keysetArgs, toPage, type PageRequest } from '../pagination';
import type { CreateTenantBody, UpdateTenantBody } from '../schemas/tenants';
import { tenantDto } from '../serialize';
import { conflictAs } from './conflict';
import { slugify } from '../../slug';

export async function listTenants(prisma: PrismaClient, actor: Actor, page: PageRequest) {
  requireOrganizationAction(actor, 'tenant.list');
  const visible =
    actor.tenantRestriction !== null ? { id: actor.tenantRestriction } : seesAllTenants(actor) ? {} : { id: { in: Object.keys(actor.tenantRoles) } };
  const keyset = keysetArgs(page);
  const rows = await prisma.tenant.findMany({
    where: { AND: [{ organizationId: actor.organizationId }, visible, keyset.where] },
    orderBy: keyset.orderBy,
    take: keyset.take,
  });
  return toPage(rows, page, tenantDto);
}

export async function createTenant(prisma: PrismaClient, actor: Actor, body: z.output<typeof CreateTenantBody>, origin: RequestOrigin | null) {
  requireOrganizationAction(actor, 'tenant.create');
  const slug = body.slug ?? slugify(body.name, 'tenant');
  const tenant = await conflictAs(`a tenant with slug "${slug}" already exists in this organization: choose another slug`, () =>
    prisma.$transaction(async (tx) => {
      const created = await tx.tenant.create({ data: { organizationId: actor.organizationId, slug, name: body.name } });
      await recordAudit(tx, actor, {
        action: 'tenant.create',
        tenantId: created.id,
        targetType: 'tenant',
        targetId: created.id,
        details: { slug, name: body.name },
        origin,
      });
      return created;
    }),
  );
  return tenantDto(tenant);
}

/** The tenant, after checking the actor may do `action` in it (404 when it may not see it). */
export async function loadTenantFor(prisma: PrismaClient, actor: Actor, tenantId: string, action: Parameters<typeof requireTenantAction>[1]) {
  const tenant = await prisma.tenant.findUnique({ where: { id: tenantId } });
  if (!tenant) throw notFound('tenant');
  requireTenantAction(actor, action, tenant, 'tenant');
  return tenant;
}

export async function getTenant(prisma: PrismaClient, actor: Actor, tenantId: string) {
  return tenantDto(await loadTenantFor(prisma, actor, tenantId, 'tenant.read'));
}

/** The tenant, after checking the actor sees it (404) and may do the organization-level `action` on it (403). */
export async function loadTenantToManage(
  prisma: PrismaClient,
  actor: Actor,
  tenantId: string,
  action: 'tenant.update' | 'tenant.delete' | 'tenant_member.manage',
) {
  const tenant = await loadTenantFor(prisma, actor, tenantId, 'tenant.read');
  requireOrganizationAction(actor, action);
  return tenant;
}

export async function updateTenant(
  prisma: PrismaClient,
  actor: Actor,
  tenantId: string,
  body: z.output<typeof UpdateTenantBody>,
  origin: RequestOrigin | null,
) {
  await loadTenantToManage(prisma, actor, tenantId, 'tenant.update');
  const updated = await conflictAs(`a tenant with slug "${body.slug}" already exists in this organization: choose another slug`, () =>
    prisma.$transaction(async (tx) => {
      const row = await tx.tenant.update({ where: { id: tenantId }, data: body });
      await recordAudit(tx, actor, { action: 'tenant.update', tenantId, targetType: 'tenant', targetId: tenantId, details: { ...body }, origin });
      return row;
    }),
  );
  return tenantDto(updated);
}

/** Deletes a tenant and everything in it (pipelines, runs, secrets, memberships, its tokens); never under a running run. */
export async function deleteTenant(prisma: PrismaClient, actor: Actor, tenantId: string, origin: RequestOrigin | null): Promise<void> {
  const tenant = await loadTenantToManage(prisma, actor, tenantId, 'tenant.delete');
  await prisma.$transaction(async (tx) => {
    // A trigger locks its pipeline's row (nextRunNumber): with every pipeline of the tenant locked, no run can start before the delete.
    await tx.$queryRaw`SELECT id FROM pipelines WHERE tenant_id = ${tenantId} FOR UPDATE`;
    const active = await tx.pipelineRun.count({ where: { pipeline: { tenantId }, status: { in: ['queued', 'running'] } } });
    if (active > 0) {
      throw new ApiError('tenant_busy', 409, `the tenant has ${active} queued or running run(s): cancel them before deleting it`, { activeRuns: active });
    }
    await tx.tenant.delete({ where: { id: tenantId } });
    // The row belongs to the organization: the tenant it would point to is gone.
    await recordAudit(tx, actor, {
      action: 'tenant.delete',
      targetType: 'tenant',
      targetId: tenantId,
      details: { slug: tenant.slug, name: tenant.name },
      origin,
    });
  });
}
