/**
 * `Authorization: Bearer <token>` → Actor. Every failure is an `AuthError` whose message says what to do;
 * the token itself never appears in errors or logs.
 *
 * A personal token acts for its user: its rights are the user's current roles, narrowed by its scopes and
 * tenant. A service token has no user: it acts as an organization admin narrowed by its scopes (and its
 * tenant, when restricted), so it never exceeds what the org admin who created it could do, and it keeps
 * working when that admin leaves (lib/api/README.md, "API tokens").
 */
import type { PrismaClient } from '../generated/prisma/client';
import { isScope, type Actor } from './authorize';
import { AuthError } from './errors';
import { crossSiteProblem } from './cross-site';
import { requestOrigin } from './request-origin';
import { SERVICE_TOKEN_ROLES, userRoles, type Roles } from './roles';
import { sessionIdFromCookies } from './session-cookie';
import { sessionActor } from './sessions';
import { bearerToken, hashesEqual, hashToken, tokenLookupPrefix, tokenShapeProblem } from './tokens';

/**
 * `lastUsedAt` is written at most this often per token, so reads do not turn into a write each; a use from
 * another address is written at once.
 */
export const LAST_USED_GRANULARITY_MS = 60_000;

export interface AuthenticateOptions {
  now?: Date;
  /** Client address of this use, recorded as the token's last-used address. */
  ip?: string | null;
}

/** An API token (`Authorization: Bearer`), else the session cookie of a signed-in browser. */
export async function authenticateRequest(prisma: PrismaClient, request: Request, now: Date = new Date()): Promise<Actor> {
  const token = bearerToken(request.headers);
  if (token === null) return authenticateSession(prisma, request, now);
  if (typeof token !== 'string') {
    throw new AuthError('invalid_token', 'malformed Authorization header: expected `Bearer <API token>`');
  }
  return authenticateToken(prisma, token, { now, ip: requestOrigin(request).ip });
}

export async function authenticateToken(prisma: PrismaClient, token: string, options: AuthenticateOptions = {}): Promise<Actor> {
  const now = options.now ?? new Date();
  const ip = options.ip ?? null;
  const invalid = new AuthError('invalid_token', 'the API token is not valid');
  if (tokenShapeProblem(token) !== null) throw invalid;

  const key = await prisma.apiKey.findUnique({ where: { prefix: tokenLookupPrefix(token) }, include: { user: { select: { disabledAt: true } } } });
  // Hash even when no row matched, so a miss and a mismatch take the same time.
  const presented = hashToken(token);
  if (!key || !hashesEqual(presented, key.hash)) throw invalid;
  if (key.revokedAt !== null) throw new AuthError('invalid_token', 'the API token has been revoked: create a new one');
  if (key.expiresAt !== null && key.expiresAt.getTime() <= now.getTime()) {
    throw new AuthError('invalid_token', 'the API token has expired: create a new one');
  }
  let roles: Roles;
  if (key.service) roles = SERVICE_TOKEN_ROLES;
  // A personal token whose user was deleted keeps no rights (fail closed).
  else if (key.userId === null) throw new AuthError('invalid_token', 'the API token no longer belongs to a user: create a new one');
  else if (key.user?.disabledAt) throw new AuthError('invalid_token', 'the user of this API token is disabled: ask an administrator');
  else roles = await userRoles(prisma, key.organizationId, key.userId);

  const stale = key.lastUsedAt === null || now.getTime() - key.lastUsedAt.getTime() >= LAST_USED_GRANULARITY_MS;
  if (stale || (ip !== null && ip !== key.lastUsedIp)) {
    // Conditional, so concurrent requests of one token from one address write once per interval.
    const staleBefore = new Date(now.getTime() - LAST_USED_GRANULARITY_MS);
    await prisma.apiKey.updateMany({
      where: {
        id: key.id,
        OR: [{ lastUsedAt: null }, { lastUsedAt: { lte: staleBefore } }, ...(ip !== null ? [{ lastUsedIp: null }, { lastUsedIp: { not: ip } }] : [])],
      },
      data: { lastUsedAt: now, ...(ip !== null ? { lastUsedIp: ip } : {}) },
    });
  }

  return {
    kind: 'api_key',
    userId: key.userId,
    apiKeyId: key.id,
    organizationId: key.organizationId,
    ...roles,
    tenantRestriction: key.tenantId,
    scopes: key.scopes.filter(isScope),
  };
}

async function authenticateSession(prisma: PrismaClient, request: Request, now: Date): Promise<Actor> {
  const sessionId = await sessionIdFromCookies(request.headers.get('cookie'));
  if (sessionId === null) throw new AuthError('unauthenticated', 'authentication required: sign in, or send `Authorization: Bearer <API token>`');
  if (sessionId === 'invalid') throw new AuthError('invalid_token', 'the session cookie is not valid: sign in again');
  // A cookie goes with every request the browser makes, also those another site makes it send.
  const crossSite = crossSiteProblem(request.method, request.headers);
  if (crossSite !== null) throw new AuthError('cross_site', crossSite);
  return sessionActor(prisma, sessionId, now);
}
