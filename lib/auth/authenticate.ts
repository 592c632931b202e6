/**
 * `Authorization: Bearer <token>` → Actor. Every failure is an `AuthError` whose message says what to do;
 * the token itself never appears in errors or logs.
 */
import type { PrismaClient } from '../generated/prisma/client';
import type { TenantRole } from '../generated/prisma/enums';
import { SCOPES, type Actor, type Scope } from './authorize';
import { AuthError } from './errors';
import { bearerToken, hashesEqual, hashToken, tokenLookupPrefix, tokenShapeProblem } from './tokens';

/** `lastUsedAt` is written at most this often per token, so reads do not turn into a write each. */
export const LAST_USED_GRANULARITY_MS = 60_000;

export async function authenticateRequest(prisma: PrismaClient, request: Request, now: Date = new Date()): Promise<Actor> {
  const token = bearerToken(request.headers);
  if (token === null) {
    throw new AuthError('unauthenticated', 'authentication required: send `Authorization: Bearer <API token>`');
  }
  if (typeof token !== 'string') {
    throw new AuthError('invalid_token', 'malformed Authorization header: expected `Bearer <API token>`');
  }
  return authenticateToken(prisma, token, now);
}

export async function authenticateToken(prisma: PrismaClient, token: string, now: Date = new Date()): Promise<Actor> {
  const invalid = new AuthError('invalid_token', 'the API token is not valid');
  if (tokenShapeProblem(token) !== null) throw invalid;

  const key = await prisma.apiKey.findUnique({ where: { prefix: tokenLookupPrefix(token) } });
  // Hash even when no row matched, so a miss and a mismatch take the same time.
  const presented = hashToken(token);
  if (!key || !hashesEqual(presented, key.hash)) throw invalid;
  if (key.revokedAt !== null) throw new AuthError('invalid_token', 'the API token has been revoked: create a new one');
  if (key.expiresAt !== null && key.expiresAt.getTime() <= now.getTime()) {
    throw new AuthError('invalid_token', 'the API token has expired: create a new one');
  }
  // A token whose user was deleted keeps no rights (fail closed).
  if (key.userId === null) throw new AuthError('invalid_token', 'the API token no longer belongs to a user: create a new one');

  const [orgMembership, tenantMemberships] = await Promise.all([
    prisma.orgMembership.findUnique({
      where: { organizationId_userId: { organizationId: key.organizationId, userId: key.userId } },
      select: { role: true },
    }),
    prisma.tenantMembership.findMany({
      where: { userId: key.userId, tenant: { organizationId: key.organizationId } },
      select: { tenantId: true, role: true },
    }),
  ]);

  if (key.lastUsedAt === null || now.getTime() - key.lastUsedAt.getTime() >= LAST_USED_GRANULARITY_MS) {
    // Conditional, so concurrent requests of one token write once per interval.
    await prisma.apiKey.updateMany({
      where: { id: key.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lte: new Date(now.getTime() - LAST_USED_GRANULARITY_MS) } }] },
      data: { lastUsedAt: now },
    });
  }

  const tenantRoles: Record<string, TenantRole> = {};
  for (const membership of tenantMemberships) tenantRoles[membership.tenantId] = membership.role;

  return {
    kind: 'api_key',
    userId: key.userId,
    apiKeyId: key.id,
    organizationId: key.organizationId,
    orgRole: orgMembership?.role ?? null,
    tenantRoles,
    tenantRestriction: key.tenantId,
    scopes: key.scopes.filter((scope): scope is Scope => (SCOPES as readonly string[]).includes(scope)),
  };
}
