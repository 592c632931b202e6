/** The roles an actor has in one organization, for API tokens and sessions alike. */
import type { PrismaClient } from '../generated/prisma/client';
import type { TenantRole } from '../generated/prisma/enums';
import type { Actor } from './authorize';

export type Roles = Pick<Actor, 'orgRole' | 'tenantRoles'>;

/** A service token's rights: an org admin's (never an owner's: owners alone change the organization). */
export const SERVICE_TOKEN_ROLES: Roles = { orgRole: 'admin', tenantRoles: {} };

/** The user's current roles in the organization, read on every request: a demotion takes effect at once. */
export async function userRoles(prisma: PrismaClient, organizationId: string, userId: string): Promise<Roles> {
  const [orgMembership, tenantMemberships] = await Promise.all([
    prisma.orgMembership.findUnique({ where: { organizationId_userId: { organizationId, userId } }, select: { role: true } }),
    prisma.tenantMembership.findMany({ where: { userId, tenant: { organizationId } }, select: { tenantId: true, role: true } }),
  ]);
  const tenantRoles: Record<string, TenantRole> = {};
  for (const membership of tenantMemberships) tenantRoles[membership.tenantId] = membership.role;
  return { orgRole: orgMembership?.role ?? null, tenantRoles };
}
