/**
 * The audit log: who (user and token) did what, to which resource, when, from where (address, user agent)
 * and with what outcome. A change writes its row in its own transaction (`recordAudit(tx, ...)`), so there
 * is a row exactly when the change happened. A write refused by authorization writes a `denied` row on its
 * own (`recordDenial`, called by withApi): nothing it did is left to commit with. Rows are never updated or
 * deleted (a trigger refuses it; docs/audit.md).
 */
import { recordAudit } from '../auth/audit';
import type { Actor } from '../auth/authorize';
import type { RequestOrigin } from '../auth/request-origin';
import type { Tx } from './db';
import type { ApiError } from './errors';
import type { Operation } from './operation';

export { recordAudit, type AuditEntry } from '../auth/audit';

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
