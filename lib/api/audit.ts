/** Audit rows for every change made through the API, written in the transaction of the change. */
import type { Prisma } from '../generated/prisma/client';
import type { Actor } from '../auth/authorize';
import type { Tx } from './db';

export interface AuditEntry {
  action: string;
  tenantId?: string | null;
  targetType: string;
  targetId: string;
  details?: Prisma.InputJsonValue;
  ip?: string | null;
}

export async function recordAudit(tx: Tx, actor: Actor, entry: AuditEntry): Promise<void> {
  await tx.auditLog.create({
    data: {
      organizationId: actor.organizationId,
      tenantId: entry.tenantId ?? null,
      actorUserId: actor.userId,
      actorApiKeyId: actor.apiKeyId,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId,
      details: entry.details ?? undefined,
      ip: entry.ip ?? null,
    },
  });
}
