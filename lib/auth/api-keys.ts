/** Creating API keys. The plain token is returned once, to show to its owner; only its hash is stored. */
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import type { Scope } from './authorize';
import { generateToken, hashToken, tokenLookupPrefix, tokenShapeProblem } from './tokens';

export interface NewApiKey {
  organizationId: string;
  userId: string;
  name: string;
  scopes: readonly Scope[];
  /** Restrict the token to one tenant. */
  tenantId?: string | null;
  expiresAt?: Date | null;
  /** Use this exact token (bootstrap); default a fresh random one. */
  token?: string;
}

export async function createApiKey(
  prisma: PrismaClient | Prisma.TransactionClient,
  input: NewApiKey,
): Promise<{ token: string; apiKeyId: string; prefix: string }> {
  const token = input.token ?? generateToken();
  const problem = tokenShapeProblem(token);
  if (problem !== null) throw new Error(`invalid API token: ${problem}`);
  const prefix = tokenLookupPrefix(token);
  const key = await prisma.apiKey.create({
    data: {
      organizationId: input.organizationId,
      userId: input.userId,
      tenantId: input.tenantId ?? null,
      name: input.name,
      prefix,
      hash: hashToken(token),
      scopes: [...input.scopes],
      expiresAt: input.expiresAt ?? null,
    },
    select: { id: true },
  });
  return { token, apiKeyId: key.id, prefix };
}
