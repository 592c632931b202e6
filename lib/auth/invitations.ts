/**
 * Invitations to an organization, by link. The link holds a secret token (`bki_` + 32 random bytes in
 * base64url), shown once to the admin who creates the invitation; only its SHA-256 is stored. An
 * invitation names one email, expires, and is accepted once, by the signed-in user with that email.
 *
 * Also what a first sign-in asks: may this email join (a pending invitation, or an organization that
 * admits its domain)? lib/auth knows nothing of HTTP: failures are `InvitationError`s, which lib/api
 * turns into statuses.
 */
import { randomBytes } from 'node:crypto';
import type { Invitation, Prisma, PrismaClient } from '../generated/prisma/client';
import { TenantRole, type OrgRole } from '../generated/prisma/enums';
import { recordAudit } from './audit';
import type { RequestOrigin } from './request-origin';
import { hashToken } from './tokens';

export const INVITATION_TOKEN_PREFIX = 'bki_';
/** The shape of every invitation token; anything else names no invitation. */
export const INVITATION_TOKEN_PATTERN = /^bki_[A-Za-z0-9_-]{43}$/;

export function generateInvitationToken(): string {
  return INVITATION_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** Emails are compared lowercased and trimmed, here and wherever an invitation is matched. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function emailDomain(email: string): string {
  return normalizeEmail(email).split('@').pop() ?? '';
}

export type InvitationErrorCode =
  /** No invitation with this token for this user's email (also when it exists for another email). */
  | 'not_found'
  | 'expired'
  | 'revoked'
  /** Already accepted (links are single use). */
  | 'used'
  | 'already_member';

export class InvitationError extends Error {
  constructor(
    readonly code: InvitationErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'InvitationError';
  }
}

/** The tenant roles an invitation grants, read from its JSON column; anything that is not a role is dropped. */
export function invitationTenantRoles(value: Prisma.JsonValue): Record<string, TenantRole> {
  const roles: Record<string, TenantRole> = {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return roles;
  for (const [tenantId, role] of Object.entries(value)) {
    if (typeof role === 'string' && Object.hasOwn(TenantRole, role)) roles[tenantId] = role as TenantRole;
  }
  return roles;
}

export interface AcceptedInvitation {
  invitationId: string;
  organizationId: string;
  role: OrgRole;
  /** The tenant memberships granted (tenants deleted since the invitation was made are left out). */
  tenantRoles: Record<string, TenantRole>;
}

/**
 * Accepts the invitation of `token` for `user`: the user becomes a member of its organization with its
 * role and tenant roles. Run it in a transaction (with the caller's audit row): the invitation is marked
 * accepted by a conditional update, so of two concurrent accepts exactly one wins.
 */
export async function acceptInvitation(
  tx: Prisma.TransactionClient,
  token: string,
  user: { id: string; email: string },
  now: Date = new Date(),
): Promise<AcceptedInvitation> {
  const notFound = new InvitationError('not_found', 'invitation not found: check the link, or ask an admin of the organization for a new one');
  if (!INVITATION_TOKEN_PATTERN.test(token)) throw notFound;
  const invitation = await tx.invitation.findUnique({ where: { tokenHash: hashToken(token) } });
  // An invitation for someone else is not yours to see, let alone to accept.
  if (!invitation || invitation.email !== normalizeEmail(user.email)) throw notFound;
  return claimInvitation(tx, invitation, user, now);
}

/**
 * Makes `user` a member as `invitation` says, once: the invitation is marked accepted by a conditional
 * update, so of two concurrent accepts exactly one wins. The caller checked that it is the user's.
 */
export async function claimInvitation(
  tx: Prisma.TransactionClient,
  invitation: Invitation,
  user: { id: string; email: string },
  now: Date = new Date(),
): Promise<AcceptedInvitation> {
  if (invitation.acceptedAt !== null) throw new InvitationError('used', 'this invitation has already been accepted: links work once');
  if (invitation.revokedAt !== null) throw new InvitationError('revoked', 'this invitation was revoked: ask an admin of the organization for a new one');
  if (invitation.expiresAt <= now) throw new InvitationError('expired', 'this invitation has expired: ask an admin of the organization for a new one');

  const existing = await tx.orgMembership.findUnique({
    where: { organizationId_userId: { organizationId: invitation.organizationId, userId: user.id } },
    select: { role: true },
  });
  if (existing) throw new InvitationError('already_member', `you are already a member of this organization (${existing.role})`);

  const claimed = await tx.invitation.updateMany({
    where: { id: invitation.id, acceptedAt: null, revokedAt: null, expiresAt: { gt: now } },
    data: { acceptedAt: now, acceptedById: user.id },
  });
  if (claimed.count === 0) throw new InvitationError('used', 'this invitation has just been accepted or revoked: links work once');

  await tx.orgMembership.create({ data: { organizationId: invitation.organizationId, userId: user.id, role: invitation.role } });
  const wanted = invitationTenantRoles(invitation.tenantRoles);
  const tenants = await tx.tenant.findMany({ where: { organizationId: invitation.organizationId, id: { in: Object.keys(wanted) } }, select: { id: true } });
  const tenantRoles: Record<string, TenantRole> = {};
  for (const { id } of tenants) {
    tenantRoles[id] = wanted[id]!;
    await tx.tenantMembership.upsert({
      where: { tenantId_userId: { tenantId: id, userId: user.id } },
      create: { tenantId: id, userId: user.id, role: wanted[id]! },
      update: { role: wanted[id]! },
    });
  }
  return { invitationId: invitation.id, organizationId: invitation.organizationId, role: invitation.role, tenantRoles };
}

/** Pending invitations of an email: a first sign-in of an unknown email is allowed when there is one. */
export async function pendingInvitationsFor(prisma: PrismaClient | Prisma.TransactionClient, email: string, now: Date = new Date()): Promise<Invitation[]> {
  return prisma.invitation.findMany({
    where: { email: normalizeEmail(email), acceptedAt: null, revokedAt: null, expiresAt: { gt: now } },
    orderBy: { createdAt: 'desc' },
  });
}

/** Organizations that admit this email's domain without an invitation (`Organization.allowedEmailDomains`). */
export async function organizationsAdmittingEmail(prisma: PrismaClient | Prisma.TransactionClient, email: string) {
  const domain = emailDomain(email);
  if (domain === '') return [];
  return prisma.organization.findMany({ where: { allowedEmailDomains: { has: domain } }, select: { id: true, slug: true, name: true } });
}

/** The audit row of an invitation a user accepted themselves (by the link, or by signing in with its email). */
export async function recordInvitationAccepted(
  tx: Prisma.TransactionClient,
  user: { id: string; email: string },
  accepted: AcceptedInvitation,
  origin: RequestOrigin | null,
  how: { via: 'link' | 'sign-in'; account?: 'created' | 'password set' | undefined },
): Promise<void> {
  await recordAudit(tx, null, {
    userId: user.id,
    organizationId: accepted.organizationId,
    action: 'invitation.accept',
    targetType: 'invitation',
    targetId: accepted.invitationId,
    details: { email: user.email, role: accepted.role, tenantRoles: accepted.tenantRoles, via: how.via, ...(how.account ? { account: how.account } : {}) },
    origin,
  });
}
