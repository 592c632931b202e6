/**
 * `authorize()` (lib/auth) turned into API answers. Someone who may not see a tenant gets 404 for
 * everything in it, exactly as for an id that does not exist, so ids of other tenants reveal nothing.
 * Someone who sees it but may not do this gets 403.
 */
import { authorize, hasScope, type Action, type Actor, type Resource } from '../auth/authorize';
import { ApiError, notFound } from './errors';

export function tenantResource(tenant: { id: string; organizationId: string }): Resource {
  return { type: 'tenant', organizationId: tenant.organizationId, tenantId: tenant.id };
}

function denied(reason: string, action: Action): ApiError {
  if (reason === 'scope') {
    return new ApiError('insufficient_scope', 403, `the API token's scopes do not allow ${action}: use a token with a broader scope`, { action });
  }
  return new ApiError('forbidden', 403, `your role does not allow ${action}`, { action });
}

/** Throws 404 when the actor may not see the tenant, 403 when it sees it but may not do `action`. */
export function requireTenantAction(actor: Actor, action: Action, tenant: { id: string; organizationId: string }, what = 'resource'): void {
  const resource = tenantResource(tenant);
  const decision = authorize(actor, action, resource);
  if (decision.allowed) return;
  const visibility = action === 'tenant.read' ? decision : authorize(actor, 'tenant.read', resource);
  if (!visibility.allowed && visibility.reason !== 'scope') throw notFound(what);
  throw denied(decision.reason, action);
}

/** Throws 404 for another organization than the actor's, 403 when the actor may not do `action` in its own. */
export function requireOrganizationAction(actor: Actor, action: Action, organizationId = actor.organizationId): void {
  const decision = authorize(actor, action, { type: 'organization', organizationId });
  if (decision.allowed) return;
  if (decision.reason === 'organization') throw notFound('organization');
  throw denied(decision.reason, action);
}

/**
 * What a user does for themselves, outside any organization role: list their organizations (`read`),
 * create one or accept an invitation (`admin`). Needs a personal token, not one restricted to a tenant.
 */
export function requireSelfService(actor: Actor, scope: 'read' | 'admin', what: string): asserts actor is Actor & { userId: string } {
  if (actor.userId === null) throw new ApiError('forbidden', 403, `a service token acts for its organization, not for a user: ${what} with a personal token`);
  if (actor.tenantRestriction !== null) {
    throw new ApiError('forbidden', 403, `a token restricted to one tenant cannot ${what}: use a token without a tenant restriction`);
  }
  if (!hasScope(actor.scopes, scope)) {
    throw new ApiError('insufficient_scope', 403, `the API token's scopes do not allow you to ${what}: use a token with the \`${scope}\` scope`, { scope });
  }
}
