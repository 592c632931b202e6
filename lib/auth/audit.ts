/**
 * Writes audit rows (docs/audit.md): one per change, in the change's own transaction, on every way in (the
 * API through lib/api/audit.ts, sign-in through lib/auth). Rows are never updated or deleted.
 */
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import type { AuditOutcome } from '../generated/prisma/enums';
import type { Actor } from './authorize';
import type { RequestOrigin } from './request-origin';

export interface AuditEntry {
  /** What was done: an action of lib/auth (`pipeline.create`) or a finer name (`run.rerun`, `token.revoke`). */
  action: string;
  /** Default `success`. */
  outcome?: AuditOutcome;
  /** The organization when there is no actor (a failed sign-in); otherwise the actor's. */
  organizationId?: string;
  tenantId?: string | null;
  /** The resource, named as the API names it: `tenant`, `pipeline`, `run`, `token`, ... */
  targetType: string;
  targetId: string;
  details?: Prisma.InputJsonValue;
  /** The user acting when there is no actor yet (a sign-in). */
  userId?: string | null;
  /** The request the action came from; null when it came from none. */
  origin: RequestOrigin | null;
}

/** Writes one row. `actor` is null when nobody was authenticated (a failed sign-in). */
export async function recordAudit(tx: PrismaClient | Prisma.TransactionClient, actor: Actor | null, entry: AuditEntry): Promise<void> {
  await tx.auditLog.create({
    data: {
      organizationId: entry.organizationId ?? actor?.organizationId ?? null,
      tenantId: entry.tenantId ?? null,
      actorUserId: actor?.userId ?? entry.userId ?? null,
      actorApiKeyId: actor?.apiKeyId ?? null,
      action: entry.action,
      outcome: entry.outcome ?? 'success',
      targetType: entry.targetType,
      targetId: entry.targetId,
      details: entry.details ?? undefined,
      ip: entry.origin?.ip ?? null,
      userAgent: entry.origin?.userAgent ?? null,
    },
  });
}
