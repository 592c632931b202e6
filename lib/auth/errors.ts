/**
 * Why a caller could not be authenticated. lib/auth knows nothing of HTTP: lib/api/errors.ts answers it
 * with a 401, lib/realtime refuses the socket.
 */
export type AuthErrorCode =
  /** No credentials were presented. */
  | 'unauthenticated'
  /** Credentials were presented but are malformed, unknown, revoked or expired. */
  | 'invalid_token'
  /** A write authenticated by the session cookie that did not come from BuildIt's own pages (CSRF). */
  | 'cross_site';

export class AuthError extends Error {
  constructor(
    readonly code: AuthErrorCode,
    /** Says what to do; never contains the token. */
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}
