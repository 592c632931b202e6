/**
 * API tokens: what the API does, independent of HTTP. Everyone sees their own personal tokens, and
 * organization admins (by role) the organization's service tokens; any other token answers 404.
 */
import type { z } from 'zod';
import { createApiKey, unusableScopes } from '../../auth/api-keys';
import { can, hasScope, isScope, type Actor, type Scope } from '../../auth/authorize';
import type { RequestOrigin } from '../../auth/request-origin';
import type { ApiKey, Prisma } from '../../generated/prisma/client';
import type { PrismaClient } from '../db';
import { requireOrganizationAction } from '../access';
import { recordAudit } from '../audit';
import { ApiError, notFound } from '../errors';
import { keysetArgs, toPage, type PageRequest } from '../pagination';
import type { CreateTokenBody } from '../schemas/tokens';
import { loadTenantFor } from './tenants';

function tokenDto(key: ApiKey) {
  return {
    id: key.id,
    name: key.name,
    kind: key.service ? ('service' as const) : ('personal' as const),
    prefix: key.prefix,
    userId: key.userId,
    tenantId: key.tenantId,
    scopes: key.scopes.filter(isScope),
    expiresAt: key.expiresAt,
    lastUsedAt: key.lastUsedAt,
    lastUsedIp: key.lastUsedIp,
    revokedAt: key.revokedAt,
    createdAt: key.createdAt,
  };
}

/** Whether the actor's role lets it manage service tokens, whatever its token's scopes: it then sees them. */
function administersServiceTokens(actor: Actor): boolean {
  return can({ ...actor, scopes: ['admin'] }, 'token.manage_service', { type: 'organization', organizationId: actor.organizationId });
}

/** The tokens the actor sees. */
function visibleTokens(actor: Actor): Prisma.ApiKeyWhereInput {
  const kinds: Prisma.ApiKeyWhereInput[] = [];
  if (actor.userId !== null) kinds.push({ service: false, userId: actor.userId });
  if (administersServiceTokens(actor)) kinds.push({ service: true });
  // An empty OR matches nothing.
  return { organizationId: actor.organizationId, OR: kinds };
}

/** Every scope reads, so any scope lists and manages the caller's tokens; a token with none does nothing. */
function requireSomeScope(actor: Actor, action: string): void {
  if (!hasScope(actor.scopes, 'read')) {
    throw new ApiError('insufficient_scope', 403, 'the API token you are using has no scope: use a token with at least the `read` scope', { action });
  }
}

export async function listTokens(prisma: PrismaClient, actor: Actor, page: PageRequest) {
  requireSomeScope(actor, 'token.list');
  const keyset = keysetArgs(page);
  const rows = await prisma.apiKey.findMany({ where: { AND: [visibleTokens(actor), keyset.where] }, orderBy: keyset.orderBy, take: keyset.take });
  return toPage(rows, page, tokenDto);
}

/** Who the new token belongs to, once the actor may create that kind. */
function ownerOf(actor: Actor, kind: z.output<typeof CreateTokenBody>['kind']): { service: true } | { userId: string } {
  if (kind === 'service') {
    requireOrganizationAction(actor, 'token.manage_service');
    return { service: true };
  }
  if (actor.userId === null) {
    throw new ApiError('forbidden', 403, 'a service token acts for no user, so it cannot create personal tokens: create a service token (kind "service")', {
      action: 'token.create',
    });
  }
  return { userId: actor.userId };
}

const scopeList = (scopes: readonly Scope[]) => `scope${scopes.length === 1 ? '' : 's'} ${scopes.join(', ')}`;

/**
 * A token never has more rights than its creator: each scope must allow something the creator may do
 * within the new token's reach (its tenant, else the organization and every tenant of it). The message
 * says whether the creator's role or the token the creator uses falls short.
 */
async function requireScopesWithinCreator(prisma: PrismaClient, actor: Actor, scopes: readonly Scope[], tenantId: string | null): Promise<void> {
  const tenantIds =
    tenantId !== null ? [tenantId] : (await prisma.tenant.findMany({ where: { organizationId: actor.organizationId }, select: { id: true } })).map((t) => t.id);
  const creator = { ...actor, tenantRestriction: tenantId };
  const where = tenantId !== null ? ' in that tenant' : '';
  const beyondRole = unusableScopes({ ...creator, scopes: ['admin'] }, scopes, tenantIds);
  if (beyondRole.length > 0) {
    throw new ApiError(
      'forbidden',
      403,
      `your role allows nothing that the ${scopeList(beyondRole)} would grant${where}: a token never has more rights than its owner`,
      {
        action: 'token.create',
        scopes: beyondRole,
      },
    );
  }
  const beyondToken = unusableScopes(creator, scopes, tenantIds);
  if (beyondToken.length > 0) {
    throw new ApiError(
      'insufficient_scope',
      403,
      `the API token you are using does not allow the ${scopeList(beyondToken)}${where}: a token cannot create one with more rights than itself`,
      { action: 'token.create', scopes: beyondToken },
    );
  }
}

export async function createToken(prisma: PrismaClient, actor: Actor, body: z.output<typeof CreateTokenBody>, origin: RequestOrigin | null) {
  requireSomeScope(actor, 'token.create');
  const owner = ownerOf(actor, body.kind);
  const tenantId = body.tenantId ?? actor.tenantRestriction;
  if (actor.tenantRestriction !== null && tenantId !== actor.tenantRestriction) {
    throw new ApiError('forbidden', 403, 'the API token you are using is restricted to one tenant: a token it creates must be restricted to the same tenant', {
      action: 'token.create',
      tenantId: actor.tenantRestriction,
    });
  }
  if (tenantId !== null) await loadTenantFor(prisma, actor, tenantId, 'tenant.read');
  const expiresAt = body.expiresAt ? new Date(body.expiresAt) : null;
  if (expiresAt !== null && expiresAt.getTime() <= Date.now()) {
    throw new ApiError('validation_failed', 422, 'expiresAt is not in the future: give a later time, or none for a token that does not expire', [
      { path: 'expiresAt', message: 'must be in the future', code: 'custom' },
    ]);
  }
  await requireScopesWithinCreator(prisma, actor, body.scopes, tenantId);

  return prisma.$transaction(async (tx) => {
    const { token, apiKey } = await createApiKey(tx, {
      organizationId: actor.organizationId,
      ...owner,
      name: body.name,
      scopes: body.scopes,
      tenantId,
      expiresAt,
    });
    await recordAudit(tx, actor, {
      action: 'token.create',
      tenantId,
      targetType: 'token',
      targetId: apiKey.id,
      details: { name: body.name, kind: body.kind, scopes: body.scopes, expiresAt: expiresAt?.toISOString() ?? null },
      origin,
    });
    return { ...tokenDto(apiKey), token };
  });
}

const alreadyRevoked = () => new ApiError('token_revoked', 409, 'the token is already revoked');

/**
 * Revokes a token the actor sees. Revoking takes at least the rights of the revoked token (every scope of
 * it, and its tenant when the token in use is restricted): a read-only token cannot cut off a deploy token.
 */
export async function revokeToken(prisma: PrismaClient, actor: Actor, tokenId: string, origin: RequestOrigin | null) {
  requireSomeScope(actor, 'token.revoke');
  const key = await prisma.apiKey.findFirst({ where: { AND: [{ id: tokenId }, visibleTokens(actor)] } });
  if (!key) throw notFound('token');
  if (key.service) requireOrganizationAction(actor, 'token.manage_service');
  const missing = key.scopes.filter(isScope).filter((scope) => !hasScope(actor.scopes, scope));
  if (missing.length > 0 || (actor.tenantRestriction !== null && key.tenantId !== actor.tenantRestriction)) {
    throw new ApiError(
      'insufficient_scope',
      403,
      'the API token you are using has fewer rights than the token to revoke (its scopes or its tenant): revoke it with a token that has at least its rights',
      { action: 'token.revoke', scopes: missing },
    );
  }
  if (key.revokedAt !== null) throw alreadyRevoked();
  const revokedAt = new Date();
  return prisma.$transaction(async (tx) => {
    // Conditional: of two concurrent revocations, one revokes and the other gets the 409.
    const { count } = await tx.apiKey.updateMany({ where: { id: key.id, revokedAt: null }, data: { revokedAt } });
    if (count === 0) throw alreadyRevoked();
    await recordAudit(tx, actor, {
      action: 'token.revoke',
      tenantId: key.tenantId,
      targetType: 'token',
      targetId: key.id,
      details: { name: key.name, kind: key.service ? 'service' : 'personal' },
      origin,
    });
    return tokenDto({ ...key, revokedAt });
  });
}
