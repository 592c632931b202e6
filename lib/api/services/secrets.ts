/** Secrets: what the API does, independent of HTTP. A value goes in and never comes out (lib/secrets). */
import type { z } from 'zod';
import type { Actor } from '../../auth/authorize';
import type { RequestOrigin } from '../../auth/request-origin';
import { SECRET_LISTING, withSecretKeys, writeSecret, type ListedSecret } from '../../secrets/store';
import type { PrismaClient } from '../db';
import { recordAudit } from '../audit';
import { ApiError, notFound } from '../errors';
import { keysetArgs, toPage, type PageRequest } from '../pagination';
import { SecretName, type SetSecretBody } from '../schemas/secrets';
import { conflictAs } from './conflict';
import { loadTenantFor } from './tenants';

function secretDto(s: ListedSecret) {
  return { name: s.name, tenantId: s.tenantId, createdAt: s.createdAt, createdBy: s.createdBy, updatedAt: s.updatedAt, updatedBy: s.updatedBy };
}

export async function listSecrets(prisma: PrismaClient, actor: Actor, tenantId: string, page: PageRequest) {
  await loadTenantFor(prisma, actor, tenantId, 'secret.read');
  const keyset = keysetArgs(page);
  const rows = await prisma.secret.findMany({
    where: { AND: [{ tenantId }, keyset.where] },
    orderBy: keyset.orderBy,
    take: keyset.take,
    select: SECRET_LISTING,
  });
  return toPage(rows, page, secretDto);
}

/** The name as a pipeline must write it; a 422 that says why otherwise (the path accepts any name). */
function checkName(name: string): void {
  const result = SecretName.safeParse(name);
  if (result.success) return;
  const message = result.error.issues[0]?.message ?? 'not a valid secret name';
  throw new ApiError('validation_failed', 422, `invalid secret name "${name}": ${message}`, [{ path: 'name', message, code: 'invalid_format' }]);
}

/** Creates or replaces a secret; `created` tells which (201 or 200). */
export async function setSecret(
  prisma: PrismaClient,
  actor: Actor,
  tenantId: string,
  name: string,
  body: z.output<typeof SetSecretBody>,
  origin: RequestOrigin | null,
) {
  await loadTenantFor(prisma, actor, tenantId, 'secret.write');
  checkName(name);
  const { secret, created } = await conflictAs(`secret "${name}" was being created by another request at the same time: try again`, () =>
    withSecretKeys(prisma, {}, async (tx, keyring) => {
      const written = await writeSecret(tx, keyring, { tenantId, name, value: body.value, userId: actor.userId });
      await recordAudit(tx, actor, {
        action: 'secret.set',
        tenantId,
        targetType: 'secret',
        targetId: written.secret.id,
        details: { name, created: written.created },
        origin,
      });
      return written;
    }),
  );
  return { secret: secretDto(secret), created };
}

export async function deleteSecret(prisma: PrismaClient, actor: Actor, tenantId: string, name: string, origin: RequestOrigin | null): Promise<void> {
  await loadTenantFor(prisma, actor, tenantId, 'secret.write');
  await prisma.$transaction(async (tx) => {
    const secret = await tx.secret.findUnique({ where: { tenantId_name: { tenantId, name } }, select: { id: true } });
    if (!secret) throw notFound('secret');
    await tx.secret.delete({ where: { id: secret.id } });
    await recordAudit(tx, actor, { action: 'secret.delete', tenantId, targetType: 'secret', targetId: secret.id, details: { name }, origin });
  });
}
