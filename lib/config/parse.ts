// The parsers of ./env.ts. Each treats an unset or blank variable as "use the default" and throws, for a
// malformed value, `NAME must be <what it allows> (<hint>), got "<value>"`.

/** The environment, or a test's stand-in for it. */
export type Env = Readonly<Record<string, string | undefined>>;

function invalid(name: string, allowed: string, hint: string | undefined, raw: string): Error {
  return new Error(`${name} must be ${allowed}${hint ? ` (${hint})` : ''}, got "${raw}"`);
}

/** The trimmed value, or undefined when unset or blank. */
export function stringFromEnv(name: string, env: Env): string | undefined {
  return env[name]?.trim() || undefined;
}

export interface IntRule {
  fallback: number;
  min: number;
  max?: number;
  /** Added to the error, e.g. the unit. */
  hint?: string;
}

/** A decimal integer within [min, max]. */
export function intFromEnv(name: string, rule: IntRule, env: Env): number {
  const raw = stringFromEnv(name, env);
  if (raw === undefined) return rule.fallback;
  const n = /^[+-]?\d+$/.test(raw) ? Number(raw) : NaN;
  const max = rule.max ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(n) || n < rule.min || n > max) {
    const range = rule.max === undefined ? `>= ${rule.min}` : `from ${rule.min} to ${rule.max}`;
    throw invalid(name, `an integer ${range}`, rule.hint, raw);
  }
  return n;
}

/** One of `allowed`. */
export function oneOfFromEnv<T extends string>(name: string, allowed: readonly T[], fallback: T, env: Env): T {
  const raw = stringFromEnv(name, env);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw invalid(name, `one of ${allowed.join(', ')}`, undefined, raw);
  return raw as T;
}

/** A comma-separated list of names from `known` (duplicates dropped), or undefined when unset. */
export function namesFromEnv<T extends string>(name: string, known: readonly T[], env: Env, hint?: string): T[] | undefined {
  const raw = stringFromEnv(name, env);
  if (raw === undefined) return undefined;
  const names = [
    ...new Set(
      raw
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    ),
  ];
  if (names.length === 0 || names.some((item) => !(known as readonly string[]).includes(item))) {
    throw invalid(name, `a comma-separated list of ${known.join(', ')}`, hint, raw);
  }
  return names as T[];
}

/** How a 256-bit key is written (the key that encrypts secrets, lib/secrets/keys.ts). */
export const KEY_FORMAT = '32 bytes written in base64 (44 characters) or as 64 hex digits';
/** How to make one. */
export const KEY_HINT = 'generate one with `openssl rand -base64 32`';

/** A 256-bit key in KEY_FORMAT, or undefined when the text is not one. */
export function decodeKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (!/^[A-Za-z0-9+/]{43}=?$/.test(trimmed)) return undefined;
  return Buffer.from(trimmed, 'base64');
}

/**
 * Comma-separated keys in KEY_FORMAT, or undefined when unset. A key is a secret: the error says how long
 * the bad value was, never what it was (it would end up in logs).
 */
export function keysFromEnv(name: string, env: Env): Buffer[] | undefined {
  const raw = stringFromEnv(name, env);
  if (raw === undefined) return undefined;
  const keys: Buffer[] = [];
  for (const part of raw.split(',')) {
    const key = decodeKey(part);
    if (key === undefined) throw new Error(`${name} must be ${KEY_FORMAT} (${KEY_HINT}), got a value of ${part.trim().length} characters`);
    keys.push(key);
  }
  return keys;
}
