/** Tenants: what the API does, independent of HTTP. */
import type { z } from 'zod';
import { seesAllTenants, type Actor } from '../../auth/authorize';
import type { RequestOrigin } from '../../auth/request-origin';
import type { PrismaClient } from '../db';
import { requireOrganizationAction, requireTenantAction } from '../access';
import { recordAudit } from '../audit';
import { notFound } from '../errors';
import { keysetArgs, toPage, type PageRequest } from '../pagination';
import type { CreateTenantBody } from '../schemas/tenants';
import { tenantDto } from '../serialize';
import { conflictAs } from './conflict';
import { slugify } from './slug';

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
