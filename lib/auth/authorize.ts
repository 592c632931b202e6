/**
 * One fail-closed authorization check for every entry point (API routes, server actions, Socket.IO
 * room joins): `authorize(actor, action, resource)`. Anything not explicitly granted by the tables
 * below is denied: unknown actions, unknown roles, unknown scopes, another organization, another
 * tenant than a tenant-restricted token's.
 */
import type { OrgRole, TenantRole } from '../generated/prisma/enums';

/** Actions on the organization itself (docs/permissions.md); every other action is on one tenant. */
const ORGANIZATION_ACTION_NAMES = [
  'org.read',
  'org.update',
  'member.list',
  'member.manage',
  'invitation.manage',
  'tenant.list',
  'tenant.create',
  'tenant.update',
  'tenant.delete',
  'tenant_member.manage',
  'token.manage_service',
  'audit.read',
] as const;

const TENANT_ACTION_NAMES = [
  'tenant.read',
  'pipeline.read',
  'pipeline.create',
  'pipeline.update',
  'pipeline.delete',
  'run.read',
  'run.trigger',
  'run.cancel',
  'run.approve',
  'secret.read',
  'secret.write',
  'stack.read',
  'stack.plan',
  'stack.apply',
] as const;

export const ACTIONS = [...ORGANIZATION_ACTION_NAMES, ...TENANT_ACTION_NAMES] as const;
export type Action = (typeof ACTIONS)[number];

/**
 * Token scopes. `admin` holds every other one, and every scope lets the token read what its owner may
 * read (a token that may trigger runs may see them). A token never exceeds its owner's role.
 */
export const SCOPES = ['read', 'runs:trigger', 'pipelines:write', 'secrets:write', 'stacks:plan', 'stacks:apply', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export const ORGANIZATION_ACTIONS: ReadonlySet<Action> = new Set<Action>(ORGANIZATION_ACTION_NAMES);

/** The scope a token needs for each action. */
export const ACTION_SCOPE: Readonly<Record<Action, Scope>> = {
  'org.read': 'read',
  'org.update': 'admin',
  'member.list': 'read',
  'member.manage': 'admin',
  'invitation.manage': 'admin',
  'tenant.list': 'read',
  'tenant.create': 'admin',
  'tenant.update': 'admin',
  'tenant.delete': 'admin',
  'tenant_member.manage': 'admin',
  'token.manage_service': 'admin',
  'audit.read': 'admin',
  'tenant.read': 'read',
  'pipeline.read': 'read',
  'pipeline.create': 'pipelines:write',
  'pipeline.update': 'pipelines:write',
  'pipeline.delete': 'pipelines:write',
  'run.read': 'read',
  'run.trigger': 'runs:trigger',
  'run.cancel': 'runs:trigger',
  'run.approve': 'runs:trigger',
  'secret.read': 'read',
  'secret.write': 'secrets:write',
  'stack.read': 'read',
  'stack.plan': 'stacks:plan',
  'stack.apply': 'stacks:apply',
};

const VIEWER: readonly Action[] = ['tenant.read', 'pipeline.read', 'run.read', 'secret.read', 'stack.read'];
const MEMBER: readonly Action[] = [...VIEWER, 'run.trigger', 'run.cancel', 'stack.plan'];
const TENANT_ADMIN: readonly Action[] = [...MEMBER, 'pipeline.create', 'pipeline.update', 'pipeline.delete', 'run.approve', 'secret.write', 'stack.apply'];

/** What a tenant role may do inside its tenant. */
const TENANT_ROLE_ACTIONS: Readonly<Record<TenantRole, readonly Action[]>> = {
  viewer: VIEWER,
  member: MEMBER,
  admin: TENANT_ADMIN,
};

/**
 * What an organization role may do. Owners and admins act on every tenant; owners alone change the
 * organization itself (the last owner is protected by the membership rules, lib/api).
 */
const ORG_ADMIN: readonly Action[] = ACTIONS.filter((action) => action !== 'org.update');
const ORG_ROLE_ACTIONS: Readonly<Record<OrgRole, readonly Action[]>> = {
  owner: ACTIONS,
  admin: ORG_ADMIN,
  member: ['org.read', 'member.list', 'tenant.list'],
};

/** Who is asking: resolved from an API token (lib/auth/authenticate.ts) or a browser session (lib/auth/sessions.ts). */
export interface Actor {
  /**
   * `webhook`: a verified webhook delivery, which may only trigger runs of its pipeline's tenant (lib/api/services/webhooks.ts).
   * `pipeline`: a pipeline run's `stack` stage, which may only queue and cancel stack runs in the run's tenant (worker/jobs/run/stacks.ts).
   */
  kind: 'api_key' | 'session' | 'webhook' | 'pipeline';
  /** null for an organization service token, which acts for no user. */
  userId: string | null;
  /** The API token in use; null for a session. */
  apiKeyId: string | null;
  /** The browser session in use (a session acts with its user's whole role: every scope). */
  sessionId?: string;
  organizationId: string;
  orgRole: OrgRole | null;
  /** The actor's role in each tenant of the organization where it has a membership. */
  tenantRoles: Readonly<Record<string, TenantRole>>;
  /** Set when the token is valid for this one tenant only. */
  tenantRestriction: string | null;
  scopes: readonly Scope[];
}

export type Resource = { type: 'organization'; organizationId: string } | { type: 'tenant'; organizationId: string; tenantId: string };

export type DenialReason = 'unknown_action' | 'organization' | 'tenant_restriction' | 'scope' | 'role';
export type Decision = { allowed: true } | { allowed: false; reason: DenialReason };

function grants<K extends string>(table: Readonly<Record<K, readonly Action[]>>, role: string | null | undefined, action: Action): boolean {
  if (role === null || role === undefined || !Object.hasOwn(table, role)) return false;
  return table[role as K].includes(action);
}

export function hasScope(scopes: readonly string[], needed: Scope): boolean {
  if (scopes.includes('admin')) return true;
  if (needed === 'read') return scopes.some((scope) => (SCOPES as readonly string[]).includes(scope));
  return scopes.includes(needed);
}

export function isAction(value: string): value is Action {
  return (ACTIONS as readonly string[]).includes(value);
}

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** The decision, with the reason of a denial (the API turns `organization`/`tenant_restriction` into 404). */
export function authorize(actor: Actor, action: Action, resource: Resource): Decision {
  if (!isAction(action)) return { allowed: false, reason: 'unknown_action' };
  const onOrganization = ORGANIZATION_ACTIONS.has(action);
  if (onOrganization !== (resource.type === 'organization')) return { allowed: false, reason: 'unknown_action' };
  if (resource.organizationId !== actor.organizationId) return { allowed: false, reason: 'organization' };
  if (actor.tenantRestriction !== null) {
    if (resource.type === 'tenant' ? resource.tenantId !== actor.tenantRestriction : action !== 'tenant.list') {
      return { allowed: false, reason: 'tenant_restriction' };
    }
  }
  if (!hasScope(actor.scopes, ACTION_SCOPE[action])) return { allowed: false, reason: 'scope' };
  if (grants(ORG_ROLE_ACTIONS, actor.orgRole, action)) return { allowed: true };
  // Listing is filtered to the visible tenants, so a tenant member without an org role may list too.
  if (action === 'tenant.list' && Object.values(actor.tenantRoles).some((role) => Object.hasOwn(TENANT_ROLE_ACTIONS, role))) {
    return { allowed: true };
  }
  if (resource.type === 'tenant' && Object.hasOwn(actor.tenantRoles, resource.tenantId)) {
    if (grants(TENANT_ROLE_ACTIONS, actor.tenantRoles[resource.tenantId], action)) return { allowed: true };
  }
  return { allowed: false, reason: 'role' };
}

export function can(actor: Actor, action: Action, resource: Resource): boolean {
  return authorize(actor, action, resource).allowed;
}

/** Whether the actor sees every tenant of its organization (org owner/admin with an unrestricted token). */
export function seesAllTenants(actor: Actor): boolean {
  return actor.tenantRestriction === null && grants(ORG_ROLE_ACTIONS, actor.orgRole, 'tenant.read');
}
