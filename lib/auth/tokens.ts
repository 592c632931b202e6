/**
 * API tokens: `bk_` + 32 random bytes in base64url (46 characters). Only a lookup prefix (the first
 * 12 characters, unique) and the hex SHA-256 of the whole token are stored, never the token itself.
 * A presented token is found by its prefix and accepted when its hash matches, compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const TOKEN_PREFIX = 'bk_';
export const TOKEN_LOOKUP_LENGTH = 12;
/** Shortest token we accept (a bootstrap token is chosen by the operator; generated ones are 46). */
export const MIN_TOKEN_LENGTH = 20;
export const MAX_TOKEN_LENGTH = 256;

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function tokenLookupPrefix(token: string): string {
  return token.slice(0, TOKEN_LOOKUP_LENGTH);
}

/** Constant-time comparison of two hex SHA-256 digests. */
export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === 32 && right.length === 32 && timingSafeEqual(left, right);
}

/** Printable ASCII without spaces: what may appear in `Authorization: Bearer <token>`. */
const TOKEN_CHARS = /^[\x21-\x7e]+$/;

/** Why a string cannot be a token, or null when its shape is fine. */
export function tokenShapeProblem(token: string): string | null {
  if (token.length < MIN_TOKEN_LENGTH) return `a token has at least ${MIN_TOKEN_LENGTH} characters`;
  if (token.length > MAX_TOKEN_LENGTH) return `a token has at most ${MAX_TOKEN_LENGTH} characters`;
  if (!TOKEN_CHARS.test(token)) return 'a token contains only printable ASCII characters and no spaces';
  return null;
}

/** The token of an `Authorization: Bearer <token>` header; null when the header is missing. */
export function bearerToken(headers: Headers): string | null | { malformed: true } {
  const header = headers.get('authorization');
  if (header === null || header.trim() === '') return null;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header.trim());
  if (!match) return { malformed: true };
  return match[1]!;
}
