/**
 * The session cookie: next-auth's signed and encrypted JWT, holding the id of a `sessions` row
 * (lib/auth/sessions.ts). Read here for every way in: API requests, pages and Socket.IO handshakes.
 */
import { hkdfSync } from 'node:crypto';
import { decode } from 'next-auth/jwt';
import { authSecretFromEnv, publicUrlFromEnv } from '../config/env';
import { loadKeyring } from '../secrets/keys';

let secret: string | undefined;

/**
 * The key that signs session cookies: BUILDIT_AUTH_SECRET, else derived from the current secret key
 * (lib/secrets), so an install has one key to back up. Rotating the secret key signs everyone out (after
 * a restart of the web server).
 */
export function authSecret(): string {
  secret ??=
    authSecretFromEnv() ?? Buffer.from(hkdfSync('sha256', loadKeyring().current.bytes, Buffer.alloc(0), 'buildit session cookies', 32)).toString('base64url');
  return secret;
}

/** Cookies are Secure (and so `__Secure-` prefixed) when users reach BuildIt over https. */
export function usesSecureCookies(): boolean {
  return publicUrlFromEnv().protocol === 'https:';
}

export function sessionCookieName(): string {
  return `${usesSecureCookies() ? '__Secure-' : ''}next-auth.session-token`;
}

/** The value of one cookie in a `Cookie` header. */
export function cookieValue(header: string | null | undefined, name: string): string | null {
  for (const part of header?.split(';') ?? []) {
    const separator = part.indexOf('=');
    if (separator !== -1 && part.slice(0, separator).trim() === name) return decodeURIComponent(part.slice(separator + 1).trim());
  }
  return null;
}

/** The session id of a `Cookie` header: null without a session cookie, 'invalid' when it does not verify. */
export async function sessionIdFromCookies(header: string | null | undefined): Promise<string | null | 'invalid'> {
  const token = cookieValue(header, sessionCookieName());
  if (token === null) return null;
  try {
    const payload = await decode({ token, secret: authSecret() });
    return typeof payload?.sid === 'string' ? payload.sid : 'invalid';
  } catch {
    return 'invalid';
  }
}
