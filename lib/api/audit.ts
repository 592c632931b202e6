/**
 * The audit log: who (user and token) did what, to which resource, when, from where (address, user agent)
 * and with what outcome. A change writes its row in its own transaction (`recordAudit(tx, ...)`), so there
 * is a row exactly when the change happened. A write refused by authorization writes a `denied` row on its
 * own (`recordDenial`, called by withApi): nothing it did is left to commit with. Rows are never updated or
 * deleted (a trigger refuses it; docs/audit.md).
 */
import type { Prisma } from '../generated/prisma/client';
import type { AuditOutcome } from '../generated/prisma/enums';
import type { Actor } from '../auth/authorize';
import type { RequestOrigin } from '../auth/request-origin';
import type { Tx } from './db';
import type { ApiError } from './errors';
import type { Operation } from './operation';

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
  /** The request the action came from; null when it came from none. */
  origin: RequestOrigin | null;
}

/** Writes one row. `actor` is null when nobody was authenticated (a failed sign-in). */
export async function recordAudit(tx: Tx, actor: Actor | null, entry: AuditEntry): Promise<void> {
  await tx.auditLog.create({
    data: {
      organizationId: entry.organizationId ?? actor?.organizationId ?? null,
      tenantId: entry.tenantId ?? null,
      actorUserId: actor?.userId ?? null,
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

/**
 * A mutating operation refused with 403. The action is the one authorization refused (the error's
 * `details.action`), the target the resource the route names by its last id parameter
 * (`/pipelines/{pipelineId}` → pipeline, `/tenants/{tenantId}/pipelines` → the tenant), or the
 * organization for routes without one. Other parameters are never recorded: one may be a secret (the
 * token of an invitation link).
 */
export async function recordDenial(
  tx: Tx,
  actor: Actor,
  operation: Pick<Operation, 'operationId' | 'path'>,
  params: Record<string, unknown>,
  error: ApiError,
  origin: RequestOrigin,
): Promise<void> {
  const refused = (error.details as { action?: unknown } | undefined)?.action;
  const target = [...operation.path.matchAll(/\/([\w-]+)\/\{(\w+Id)\}/g)].at(-1);
  const targetId = target ? params[target[2]!] : undefined;
  await recordAudit(tx, actor, {
    action: typeof refused === 'string' ? refused : operation.operationId,
    outcome: 'denied',
    tenantId: typeof params.tenantId === 'string' ? params.tenantId : null,
    ...(target && typeof targetId === 'string'
      ? { targetType: target[1]!.replace(/s$/, ''), targetId }
      : { targetType: 'organization', targetId: actor.organizationId }),
    details: { operationId: operation.operationId, code: error.code, message: error.message },
    origin,
  });
}
