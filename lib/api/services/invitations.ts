/** Invitations: create (the token is shown once), list, revoke, and accept (lib/auth/invitations.ts). */
import type { z } from 'zod';
import type { Actor } from '../../auth/authorize';
import { acceptInvitation as accept, generateInvitationToken, InvitationError, normalizeEmail } from '../../auth/invitations';
import type { RequestOrigin } from '../../auth/request-origin';
import { hashToken } from '../../auth/tokens';
import { publicUrlFromEnv } from '../../config/env';
import type { PrismaClient } from '../db';
import { requireOrganizationAction, requireSelfService } from '../access';
import { recordAudit } from '../audit';
import { ApiError, notFound } from '../errors';
import { keysetArgs, toPage, type PageRequest } from '../pagination';
import type { CreateInvitationBody } from '../schemas/invitations';
import { invitationDto } from '../serialize';
import { lockOrganization, requireOwnerFor } from './members';
import { issueMembershipToken } from './organizations';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The page of an invitation link (app/invitations/[token]), on the address people use. */
const invitationUrl = (token: string) => `${publicUrlFromEnv().origin}/invitations/${token}`;

export async function listInvitations(prisma: PrismaClient, actor: Actor, organizationId: string, page: PageRequest) {
  requireOrganizationAction(actor, 'invitation.manage', organizationId);
  const keyset = keysetArgs(page);
  const rows = await prisma.invitation.findMany({ where: { AND: [{ organizationId }, keyset.where] }, orderBy: keyset.orderBy, take: keyset.take });
  const now = new Date();
  return toPage(rows, page, (row) => invitationDto(row, now));
}

export async function createInvitation(
  prisma: PrismaClient,
  actor: Actor,
  organizationId: string,
  body: z.output<typeof CreateInvitationBody>,
  origin: RequestOrigin | null,
) {
  requireOrganizationAction(actor, 'invitation.manage', organizationId);
  requireOwnerFor(actor, [body.role]);
  const email = normalizeEmail(body.email);
  const tenantIds = Object.keys(body.tenantRoles);
  const token = generateInvitationToken();
  const now = new Date();
  const invitation = await prisma.$transaction(async (tx) => {
    // Under the organization's lock, so two admins inviting the same email make one invitation.
    await lockOrganization(tx, organizationId);
    const tenants = await tx.tenant.count({ where: { organizationId, id: { in: tenantIds } } });
    if (tenants !== tenantIds.length) {
      throw new ApiError('unknown_tenant', 422, 'tenantRoles names a tenant that is not in this organization', { tenantIds });
    }
    if (await tx.orgMembership.findFirst({ where: { organizationId, user: { email: { equals: email, mode: 'insensitive' } } }, select: { id: true } })) {
      throw new ApiError('already_member', 409, `${email} is already a member of this organization`);
    }
    const pending = await tx.invitation.findFirst({ where: { organizationId, email, acceptedAt: null, revokedAt: null, expiresAt: { gt: now } } });
    if (pending) {
      throw new ApiError('invitation_pending', 409, `${email} already has a pending invitation: revoke it first to send a new one`, {
        invitationId: pending.id,
      });
    }
    const created = await tx.invitation.create({
      data: {
        organizationId,
        email,
        role: body.role,
        tenantRoles: body.tenantRoles,
        tokenHash: hashToken(token),
        expiresAt: new Date(now.getTime() + body.expiresInDays * DAY_MS),
        createdById: actor.userId,
      },
    });
    await recordAudit(tx, actor, {
      action: 'invitation.create',
      targetType: 'invitation',
      targetId: created.id,
      details: { email, role: body.role, tenantRoles: body.tenantRoles, expiresAt: created.expiresAt.toISOString() },
      origin,
    });
    return created;
  });
  return { ...invitationDto(invitation, now), token, url: invitationUrl(token) };
}

export async function revokeInvitation(prisma: PrismaClient, actor: Actor, organizationId: string, invitationId: string, origin: RequestOrigin | null) {
  requireOrganizationAction(actor, 'invitation.manage', organizationId);
  await prisma.$transaction(async (tx) => {
    await lockOrganization(tx, organizationId);
    const invitation = await tx.invitation.findFirst({ where: { id: invitationId, organizationId } });
    if (!invitation) throw notFound('invitation');
    if (invitation.acceptedAt !== null) {
      throw new ApiError('invitation_accepted', 409, `the invitation was accepted: remove ${invitation.email} from the members instead`);
    }
    if (invitation.revokedAt !== null) return;
    await tx.invitation.update({ where: { id: invitationId }, data: { revokedAt: new Date() } });
    await recordAudit(tx, actor, {
      action: 'invitation.revoke',
      targetType: 'invitation',
      targetId: invitationId,
      details: { email: invitation.email },
      origin,
    });
  });
}

const INVITATION_ERROR_STATUS: Record<InvitationError['code'], number> = { not_found: 404, expired: 410, revoked: 410, used: 410, already_member: 409 };

/**
 * The caller joins the invitation's organization. The audit row goes to that organization, whose admins
 * made the invitation; the caller's token still acts in its own organization, so a new one comes back.
 */
export async function acceptInvitation(prisma: PrismaClient, actor: Actor, token: string, origin: RequestOrigin | null) {
  requireSelfService(actor, 'admin', 'accept an invitation');
  const userId = actor.userId;
  const user = await prisma.user.findUniqueOrThrow({ where: { id: userId }, select: { id: true, email: true } });
  try {
    return await prisma.$transaction(async (tx) => {
      const accepted = await accept(tx, token, user);
      const organization = await tx.organization.findUniqueOrThrow({ where: { id: accepted.organizationId }, select: { id: true, slug: true, name: true } });
      const key = await issueMembershipToken(tx, userId, organization.id, accepted.role);
      await recordAudit(tx, actor, {
        action: 'invitation.accept',
        organizationId: organization.id,
        targetType: 'invitation',
        targetId: accepted.invitationId,
        details: { email: user.email, role: accepted.role, tenantRoles: accepted.tenantRoles, apiKeyId: key.apiKeyId },
        origin,
      });
      return { organization, role: accepted.role, tenantRoles: accepted.tenantRoles, token: key.token };
    });
  } catch (error) {
    if (error instanceof InvitationError) throw new ApiError(error.code, INVITATION_ERROR_STATUS[error.code], error.message);
    throw error;
  }
}
