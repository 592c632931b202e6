/**
 * Passwords of local accounts (the first-run owner, BUILDIT_ADMIN_EMAIL), hashed with scrypt from Node's
 * crypto: Argon2 is not built in, and scrypt is as memory-hard. A stored hash names its own parameters,
 * `scrypt$N$r$p$<salt>$<hash>` (base64), so they can be raised later without breaking existing hashes.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export const MIN_PASSWORD_LENGTH = 12;
/** Longer than any passphrase; bounds the work a sign-in request can ask for. */
export const MAX_PASSWORD_LENGTH = 1024;

/** N = 2^15, r = 8: 32 MiB and about 100 ms per hash. */
const PARAMS = { N: 2 ** 15, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** A stored hash that would need more memory than this (128·N·r bytes) is refused. */
const MAX_MEMORY = 256 * 1024 * 1024;

function derive(password: string, salt: Buffer, keylen: number, params: { N: number; r: number; p: number }): Promise<Buffer> {
  // scrypt needs a little over 128·N·r bytes: Node's default limit (32 MiB) is just short for N = 2^15.
  const options: ScryptOptions = { ...params, maxmem: 2 * 128 * params.N * params.r };
  // NFKC, so the same password typed on another keyboard or system gives the same bytes.
  return new Promise((resolve, reject) => scrypt(password.normalize('NFKC'), salt, keylen, options, (error, key) => (error ? reject(error) : resolve(key))));
}

/** Length in characters as a person counts them (code points, not UTF-16 units). */
const length = (password: string) => [...password].length;

/** Why a password cannot be chosen, or null when it is fine. */
export function passwordProblem(password: string): string | null {
  if (length(password) < MIN_PASSWORD_LENGTH) return `the password is too short: use at least ${MIN_PASSWORD_LENGTH} characters (a few words make a good one)`;
  if (length(password) > MAX_PASSWORD_LENGTH) return `the password is too long: use at most ${MAX_PASSWORD_LENGTH} characters`;
  return null;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, KEY_BYTES, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** Whether `password` matches the stored hash, compared in constant time. A malformed stored hash throws. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  const [scheme, n, r, p, salt, key] = parts;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  const valid =
    parts.length === 6 &&
    scheme === 'scrypt' &&
    params.N > 1 &&
    Number.isInteger(Math.log2(params.N)) &&
    Number.isInteger(params.r) &&
    params.r >= 1 &&
    Number.isInteger(params.p) &&
    params.p >= 1 &&
    params.p <= 16 &&
    128 * params.N * params.r <= MAX_MEMORY;
  const expected = Buffer.from(key ?? '', 'base64');
  if (!valid || expected.length < 16) throw new Error('the stored password hash is not a scrypt$N$r$p$salt$hash string: set the password again');
  if (length(password) > MAX_PASSWORD_LENGTH) return false;
  const actual = await derive(password, Buffer.from(salt!, 'base64'), expected.length, params);
  return timingSafeEqual(actual, expected);
}
