/**
 * Members of an organization: list, change a role, remove (or leave). An organization always keeps an
 * owner, and only owners make or unmake owners (an admin who could would make themselves one).
 */
import { can, type Actor } from '../../auth/authorize';
import type { RequestOrigin } from '../../auth/request-origin';
import { revokeUserSessions } from '../../auth/sessions';
import type { OrgRole } from '../../generated/prisma/enums';
import type { PrismaClient, Tx } from '../db';
import { requireOrganizationAction, requireSelfService } from '../access';
import { recordAudit } from '../audit';
import { ApiError, notFound } from '../errors';
import { keysetArgs, toPage, type PageRequest } from '../pagination';
import { memberDto } from '../serialize';

/** The user fields a member is shown with. */
export const USER_FIELDS = { select: { id: true, email: true, name: true } } as const;

/**
 * Membership changes of one organization lock its row first, so they happen one after the other: two
 * owners demoting each other at once cannot both pass the last-owner check.
 */
export async function lockOrganization(tx: Tx, organizationId: string): Promise<void> {
  const rows = await tx.$queryRaw<Array<{ id: string }>>`SELECT id FROM organizations WHERE id = ${organizationId} FOR UPDATE`;
  if (rows.length === 0) throw notFound('organization');
}

/** 403 unless the actor is an owner, when `roles` (before and after a change) include the owner role. */
export function requireOwnerFor(actor: Actor, roles: readonly OrgRole[]): void {
  if (!roles.includes('owner') || can(actor, 'org.update', { type: 'organization', organizationId: actor.organizationId })) return;
  throw new ApiError('forbidden', 403, 'only an owner may grant or take the owner role', { action: 'member.manage' });
}

/** 409 when the member is the organization's only owner. */
async function refuseLastOwner(tx: Tx, organizationId: string, role: OrgRole, message: string): Promise<void> {
  if (role !== 'owner') return;
  const owners = await tx.orgMembership.count({ where: { organizationId, role: 'owner' } });
  if (owners <= 1) throw new ApiError('last_owner', 409, message);
}

async function loadMembership(tx: Tx, organizationId: string, userId: string) {
  const membership = await tx.orgMembership.findUnique({ where: { organizationId_userId: { organizationId, userId } }, include: { user: USER_FIELDS } });
  if (!membership) throw notFound('member');
  return membership;
}

export async function listMembers(prisma: PrismaClient, actor: Actor, organizationId: string, page: PageRequest) {
  requireOrganizationAction(actor, 'member.list', organizationId);
  const keyset = keysetArgs(page);
  const rows = await prisma.orgMembership.findMany({
    where: { AND: [{ organizationId }, keyset.where] },
    include: { user: USER_FIELDS },
    orderBy: keyset.orderBy,
    take: keyset.take,
  });
  return toPage(rows, page, memberDto);
}

export async function updateMember(prisma: PrismaClient, actor: Actor, organizationId: string, userId: string, role: OrgRole, origin: RequestOrigin | null) {
  requireOrganizationAction(actor, 'member.manage', organizationId);
  return prisma.$transaction(async (tx) => {
    await lockOrganization(tx, organizationId);
    const membership = await loadMembership(tx, organizationId, userId);
    if (membership.role === role) return memberDto(membership);
    requireOwnerFor(actor, [membership.role, role]);
    await refuseLastOwner(
      tx,
      organizationId,
      membership.role,
      `${membership.user.email} is the last owner of the organization: make another member owner first`,
    );
    const updated = await tx.orgMembership.update({ where: { id: membership.id }, data: { role }, include: { user: USER_FIELDS } });
    await recordAudit(tx, actor, {
      action: 'member.update',
      targetType: 'member',
      targetId: userId,
      details: { email: membership.user.email, from: membership.role, to: role },
      origin,
    });
    return memberDto(updated);
  });
}

/**
 * Removes a member, or lets the caller leave. Their tenant memberships in the organization go too, and
 * their API tokens and browser sessions in the organization end: access ends with this transaction, not at an expiry.
 */
export async function removeMember(prisma: PrismaClient, actor: Actor, organizationId: string, userId: string, origin: RequestOrigin | null) {
  const leaving = userId === actor.userId;
  if (leaving) {
    requireOrganizationAction(actor, 'org.read', organizationId);
    requireSelfService(actor, 'admin', 'leave the organization');
  } else {
    requireOrganizationAction(actor, 'member.manage', organizationId);
  }
  await prisma.$transaction(async (tx) => {
    await lockOrganization(tx, organizationId);
    const membership = await loadMembership(tx, organizationId, userId);
    if (!leaving) requireOwnerFor(actor, [membership.role]);
    await refuseLastOwner(
      tx,
      organizationId,
      membership.role,
      leaving
        ? 'you are the last owner of the organization: make another member owner before leaving'
        : `${membership.user.email} is the last owner of the organization: make another member owner first`,
    );
    const tenantMemberships = await tx.tenantMembership.deleteMany({ where: { userId, tenant: { organizationId } } });
    await tx.orgMembership.delete({ where: { id: membership.id } });
    const revoked = await tx.apiKey.updateMany({ where: { organizationId, userId, revokedAt: null }, data: { revokedAt: new Date() } });
    const endedSessions = await revokeUserSessions(tx, userId, organizationId);
    await recordAudit(tx, actor, {
      action: leaving ? 'member.leave' : 'member.remove',
      targetType: 'member',
      targetId: userId,
      details: { email: membership.user.email, role: membership.role, tenantMemberships: tenantMemberships.count, revokedTokens: revoked.count, endedSessions },
      origin,
    });
  });
}
