/**
 * Creating API keys, and the rule that a token never has more rights than whoever creates it. The plain
 * token is returned once, to show to its owner; only its hash is stored.
 */
import type { ApiKey, Prisma, PrismaClient } from '../generated/prisma/client';
import { ACTION_SCOPE, ACTIONS, can, type Actor, type Resource, type Scope } from './authorize';
import { generateToken, hashToken, tokenLookupPrefix, tokenShapeProblem } from './tokens';

interface ApiKeyFields {
  organizationId: string;
  name: string;
  scopes: readonly Scope[];
  /** Restrict the token to one tenant. */
  tenantId?: string | null;
  expiresAt?: Date | null;
  /** Use this exact token (bootstrap); default a fresh random one. */
  token?: string;
}

/** A personal token of a user, or an organization service token (no user). */
export type NewApiKey = ApiKeyFields & ({ userId: string } | { service: true });

export async function createApiKey(prisma: PrismaClient | Prisma.TransactionClient, input: NewApiKey): Promise<{ token: string; apiKey: ApiKey }> {
  const token = input.token ?? generateToken();
  const problem = tokenShapeProblem(token);
  if (problem !== null) throw new Error(`invalid API token: ${problem}`);
  const apiKey = await prisma.apiKey.create({
    data: {
      organizationId: input.organizationId,
      ...('service' in input ? { service: true } : { userId: input.userId }),
      tenantId: input.tenantId ?? null,
      name: input.name,
      prefix: tokenLookupPrefix(token),
      hash: hashToken(token),
      scopes: [...input.scopes],
      expiresAt: input.expiresAt ?? null,
    },
  });
  return { token, apiKey };
}

/**
 * The scopes among `scopes` that `holder` could not use: a scope is usable when it allows at least one
 * action the holder may do, on its organization or on one of `tenantIds`. Pass the creator of a new token
 * with the new token's tenant restriction: a viewer asking for `secrets:write` gets it back, and so does a
 * `read` token asking for a token with more.
 */
export function unusableScopes(holder: Actor, scopes: readonly Scope[], tenantIds: readonly string[]): Scope[] {
  const { organizationId } = holder;
  const resources: Resource[] = [
    { type: 'organization', organizationId },
    ...tenantIds.map((tenantId) => ({ type: 'tenant' as const, organizationId, tenantId })),
  ];
  return scopes.filter((scope) => !ACTIONS.some((action) => ACTION_SCOPE[action] === scope && resources.some((resource) => can(holder, action, resource))));
}
