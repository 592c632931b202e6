/**
 * The keys that encrypt tenant secrets (docs/secrets.md). The current key encrypts; previous keys only
 * decrypt, while a rotation (lib/secrets/rotate.ts) moves every secret to the current key.
 *
 * Where they come from, first match wins:
 * - BUILDIT_SECRET_KEY (current) and BUILDIT_SECRET_KEY_PREVIOUS (comma-separated), parsed by lib/config;
 * - the key file `$BUILDIT_DATA_DIR/secret.key`: one key per line in base64, the current one first. The
 *   first start without either generates it (lib/secrets/startup.ts), mode 0600.
 *
 * A key's id is a short HMAC of the key: stored with each ciphertext, it says which key decrypts it and
 * lets start-up tell a wrong key from a right one without revealing anything about the key.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { dataDirFromEnv, previousSecretKeysFromEnv, secretKeyFromEnv, type Env } from '../config/env';
import { decodeKey, KEY_FORMAT } from '../config/parse';

export const KEY_FILE_NAME = 'secret.key';

export interface SecretKey {
  /** 16 hex digits, stored with every ciphertext the key made. */
  id: string;
  bytes: Buffer;
}

export interface Keyring {
  current: SecretKey;
  /** Keys that still decrypt (a rotation in progress); never used to encrypt. */
  previous: SecretKey[];
  /** Where the keys came from, for messages: `BUILDIT_SECRET_KEY` or the key file's path. */
  source: string;
}

/** Where to look for the keys; defaults: process.env and BUILDIT_DATA_DIR. */
export interface KeySource {
  env?: Env;
  dataDir?: string;
}

/** A wrong, missing or unreadable key: start-up stops with this message, a run fails with it. */
export class SecretKeyError extends Error {
  override name = 'SecretKeyError';
}

export function secretKey(bytes: Buffer): SecretKey {
  return { id: createHmac('sha256', bytes).update('buildit secret key id').digest('hex').slice(0, 16), bytes };
}

export function generateSecretKey(): SecretKey {
  return secretKey(randomBytes(32));
}

export function keyFilePath(dataDir: string): string {
  return path.join(dataDir, KEY_FILE_NAME);
}

/** The key with this id, if the keyring has it. */
export function findKey(keyring: Keyring, id: string): SecretKey | undefined {
  return [keyring.current, ...keyring.previous].find((key) => key.id === id);
}

export function keyIds(keyring: Keyring): string[] {
  return [keyring.current, ...keyring.previous].map((key) => key.id);
}

/** The keyring, or null when there is no BUILDIT_SECRET_KEY and no key file yet. */
export function readKeyring(source: KeySource = {}): Keyring | null {
  const env = source.env ?? process.env;
  const fromEnv = secretKeyFromEnv(env);
  if (fromEnv !== undefined) {
    return { current: secretKey(fromEnv), previous: previousSecretKeysFromEnv(env).map(secretKey), source: 'BUILDIT_SECRET_KEY' };
  }
  const file = keyFilePath(source.dataDir ?? dataDirFromEnv(env));
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new SecretKeyError(`cannot read the secret key file ${file}: ${(error as Error).message}`);
  }
  const keys = parseKeyFile(text, file);
  return { current: keys[0]!, previous: keys.slice(1), source: file };
}

/** The keyring; a SecretKeyError when there is none (start-up generates the key file, so it exists after it). */
export function loadKeyring(source: KeySource = {}): Keyring {
  const keyring = readKeyring(source);
  if (keyring) return keyring;
  const file = keyFilePath(source.dataDir ?? dataDirFromEnv(source.env ?? process.env));
  throw new SecretKeyError(`no secret key: BUILDIT_SECRET_KEY is unset and ${file} does not exist (BuildIt creates it on its first start)`);
}

function parseKeyFile(text: string, file: string): SecretKey[] {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  if (lines.length === 0) throw new SecretKeyError(`the secret key file ${file} is empty: restore it from your backup`);
  return lines.map((line, index) => {
    const bytes = decodeKey(line);
    if (bytes === undefined)
      throw new SecretKeyError(`line ${index + 1} of the secret key file ${file} is not a key (${KEY_FORMAT}): restore the file from your backup`);
    return secretKey(bytes);
  });
}

/** Writes `keys` (current first) to a new file next to `file`, mode 0600 from the start, flushed to disk. */
function writeTemporary(file: string, keys: SecretKey[]): string {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, keys.map((key) => `${key.bytes.toString('base64')}\n`).join(''));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return temporary;
}

/**
 * Creates the key file with one new key, unless it exists: then returns null (another process made it
 * first, e.g. the web server and the worker starting together). Readers never see a half-written file.
 */
export function createKeyFile(file: string): SecretKey | null {
  const key = generateSecretKey();
  const temporary = writeTemporary(file, [key]);
  try {
    linkSync(temporary, file); // fails with EEXIST instead of replacing
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw error;
  } finally {
    unlinkSync(temporary);
  }
}

/** Replaces the key file's content with `keys` (current first), atomically. */
export function replaceKeyFile(file: string, keys: SecretKey[]): void {
  renameSync(writeTemporary(file, keys), file);
}
