/**
 * Browser sessions. The cookie (next-auth's signed JWT, lib/auth/next-auth.ts) carries only the id of a
 * `sessions` row; every request reads the row, so a session ends at once when it is signed out, its user
 * is removed from its organization or disabled, or it expires. A session acts with its user's whole role
 * in its organization (every scope); the user switches organization among their memberships.
 */
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import { recordAudit } from './audit';
import { SCOPES, type Actor } from './authorize';
import { userRoles } from './roles';
import { AuthError } from './errors';
import type { RequestOrigin } from './request-origin';

type Db = PrismaClient | Prisma.TransactionClient;

/** How long a sign-in lasts (the cookie's lifetime too). */
export const SESSION_MAX_AGE_SECONDS = 7 * 24 * 60 * 60;

const signInAgain = (why: string) => new AuthError('invalid_token', `${why}: sign in again`);

/** The organizations the user may work in, oldest membership first. */
export async function organizationsOf(prisma: Db, userId: string) {
  const memberships = await prisma.orgMembership.findMany({
    where: { userId },
    orderBy: { createdAt: 'asc' },
    select: { role: true, organization: { select: { id: true, slug: true, name: true } } },
  });
  return memberships.map(({ role, organization }) => ({ ...organization, role }));
}

/** Opens a session in the user's first organization; null when the user belongs to none. */
export async function startSession(
  prisma: Db,
  input: { userId: string; provider: string; origin: RequestOrigin | null },
  now: Date = new Date(),
): Promise<{ sessionId: string; organizationId: string } | null> {
  const [first] = await organizationsOf(prisma, input.userId);
  if (!first) return null;
  const session = await prisma.session.create({
    data: {
      userId: input.userId,
      organizationId: first.id,
      provider: input.provider,
      ip: input.origin?.ip ?? null,
      userAgent: input.origin?.userAgent ?? null,
      expiresAt: new Date(now.getTime() + SESSION_MAX_AGE_SECONDS * 1000),
    },
  });
  return { sessionId: session.id, organizationId: first.id };
}

/** Sign-out. Revoking an already ended session changes nothing. */
export async function revokeSession(prisma: Db, sessionId: string, now: Date = new Date()): Promise<void> {
  await prisma.session.updateMany({ where: { id: sessionId, revokedAt: null }, data: { revokedAt: now } });
}

/** Ends a user's sessions: all of them (disabled user), or those working in one organization (removed member). */
export async function revokeUserSessions(prisma: Db, userId: string, organizationId?: string, now: Date = new Date()): Promise<number> {
  const { count } = await prisma.session.updateMany({
    where: { userId, revokedAt: null, ...(organizationId === undefined ? {} : { organizationId }) },
    data: { revokedAt: now },
  });
  return count;
}

/** Moves a session to another organization of its user (audited); false when the user is not a member of it. */
export async function switchOrganization(
  prisma: Db,
  sessionId: string,
  userId: string,
  organizationId: string,
  origin: RequestOrigin | null = null,
): Promise<boolean> {
  const member = await prisma.orgMembership.findUnique({ where: { organizationId_userId: { organizationId, userId } }, select: { id: true } });
  if (!member) return false;
  const { count } = await prisma.session.updateMany({ where: { id: sessionId, userId, revokedAt: null }, data: { organizationId } });
  if (count === 1) {
    await recordAudit(prisma, null, { userId, organizationId, action: 'session.switch_organization', targetType: 'session', targetId: sessionId, origin });
  }
  return count === 1;
}

/** Sign-out: ends the session and records it, once (signing out of an ended session changes nothing). */
export async function signOutSession(prisma: PrismaClient, sessionId: string, origin: RequestOrigin | null): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const session = await tx.session.findUnique({ where: { id: sessionId }, select: { userId: true, organizationId: true } });
    const { count } = await tx.session.updateMany({ where: { id: sessionId, revokedAt: null }, data: { revokedAt: new Date() } });
    if (!session || count === 0) return;
    await recordAudit(tx, null, { ...session, action: 'auth.sign_out', targetType: 'session', targetId: sessionId, origin });
  });
}

/** The actor of a live session, with the user's current roles; an AuthError saying to sign in again otherwise. */
export async function sessionActor(prisma: PrismaClient, sessionId: string, now: Date = new Date()): Promise<Actor & { userId: string }> {
  const session = await prisma.session.findUnique({ where: { id: sessionId }, include: { user: { select: { disabledAt: true } } } });
  if (!session || session.revokedAt !== null) throw signInAgain('you have been signed out');
  if (session.expiresAt.getTime() <= now.getTime()) throw signInAgain('your session has expired');
  if (session.user.disabledAt !== null) throw signInAgain('your account is disabled');
  const roles = await userRoles(prisma, session.organizationId, session.userId);
  if (roles.orgRole === null) throw signInAgain('you are no longer a member of this organization');
  return {
    kind: 'session',
    userId: session.userId,
    apiKeyId: null,
    sessionId: session.id,
    organizationId: session.organizationId,
    ...roles,
    tenantRestriction: null,
    scopes: [...SCOPES],
  };
}
