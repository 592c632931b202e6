/**
 * Tenant memberships: who has which role in a tenant. Whoever sees the tenant sees its members; organization
 * owners and admins set and remove them, for members of the organization only.
 */
import type { Actor } from '../../auth/authorize';
import type { RequestOrigin } from '../../auth/request-origin';
import type { TenantRole } from '../../generated/prisma/enums';
import type { PrismaClient } from '../db';
import { recordAudit } from '../audit';
import { notFound } from '../errors';
import { keysetArgs, toPage, type PageRequest } from '../pagination';
import { memberDto } from '../serialize';
import { lockOrganization, USER_FIELDS } from './members';
import { loadTenantFor, loadTenantToManage } from './tenants';

export async function listTenantMembers(prisma: PrismaClient, actor: Actor, tenantId: string, page: PageRequest) {
  await loadTenantFor(prisma, actor, tenantId, 'tenant.read');
  const keyset = keysetArgs(page);
  const rows = await prisma.tenantMembership.findMany({
    where: { AND: [{ tenantId }, keyset.where] },
    include: { user: USER_FIELDS },
    orderBy: keyset.orderBy,
    take: keyset.take,
  });
  return toPage(rows, page, memberDto);
}

export async function setTenantMember(prisma: PrismaClient, actor: Actor, tenantId: string, userId: string, role: TenantRole, origin: RequestOrigin | null) {
  const tenant = await loadTenantToManage(prisma, actor, tenantId, 'tenant_member.manage');
  return prisma.$transaction(async (tx) => {
    // Under the organization's lock: a member being removed at the same time keeps no tenant role.
    await lockOrganization(tx, tenant.organizationId);
    const member = await tx.orgMembership.findUnique({
      where: { organizationId_userId: { organizationId: tenant.organizationId, userId } },
      select: { id: true },
    });
    if (!member) throw notFound('member of the organization');
    const previous = await tx.tenantMembership.findUnique({ where: { tenantId_userId: { tenantId, userId } }, select: { role: true } });
    const membership = await tx.tenantMembership.upsert({
      where: { tenantId_userId: { tenantId, userId } },
      create: { tenantId, userId, role },
      update: { role },
      include: { user: USER_FIELDS },
    });
    if (previous?.role !== role) {
      await recordAudit(tx, actor, {
        action: 'tenant_member.set',
        tenantId,
        targetType: 'tenant_member',
        targetId: userId,
        details: { email: membership.user.email, from: previous?.role ?? null, to: role },
        origin,
      });
    }
    return memberDto(membership);
  });
}

export async function removeTenantMember(prisma: PrismaClient, actor: Actor, tenantId: string, userId: string, origin: RequestOrigin | null) {
  const tenant = await loadTenantToManage(prisma, actor, tenantId, 'tenant_member.manage');
  await prisma.$transaction(async (tx) => {
    await lockOrganization(tx, tenant.organizationId);
    const membership = await tx.tenantMembership.findUnique({ where: { tenantId_userId: { tenantId, userId } }, select: { id: true, role: true } });
    if (!membership) throw notFound('tenant member');
    await tx.tenantMembership.delete({ where: { id: membership.id } });
    await recordAudit(tx, actor, {
      action: 'tenant_member.remove',
      tenantId,
      targetType: 'tenant_member',
      targetId: userId,
      details: { role: membership.role },
      origin,
    });
  });
}
