export { ACTIONS, SCOPES, authorize, can, hasScope, isAction, seesAllTenants } from './authorize';
export type { Action, Actor, Decision, DenialReason, Resource, Scope } from './authorize';
export { authenticateRequest, authenticateToken, LAST_USED_GRANULARITY_MS } from './authenticate';
export { createApiKey, type NewApiKey } from './api-keys';
export { AuthError, type AuthErrorCode } from './errors';
export { bootstrapFromEnv, BOOTSTRAP_ADMIN_EMAIL, BOOTSTRAP_ORG_SLUG, BOOTSTRAP_TENANT_SLUG, type BootstrapResult } from './bootstrap';
export { generateToken, hashToken, tokenLookupPrefix, TOKEN_PREFIX } from './tokens';
export {
  acceptInvitation,
  InvitationError,
  normalizeEmail,
  organizationsAdmittingEmail,
  pendingInvitationsFor,
  type AcceptedInvitation,
  type InvitationErrorCode,
} from './invitations';
