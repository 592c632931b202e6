/**
 * The secret keys at start-up (npm start, the web server, the worker): the key file is generated on the
 * first start, and a key that cannot decrypt what the database holds stops the process with a message
 * that says what to do, instead of runs failing (or worse) later.
 *
 * The check compares key ids: every key id stored with a secret must be one of the keyring's. A key id is
 * an HMAC of the key (./keys.ts), so a matching id is the right key. An empty database accepts any key.
 */
import { dataDirFromEnv } from '../config/env';
import type { Queryable } from '../db/client';
import { createKeyFile, findKey, keyFilePath, keyIds, loadKeyring, readKeyring, SecretKeyError, type Keyring, type KeySource } from './keys';
import { countSecretsByKey } from './store';

export interface PreparedSecretKeys {
  keyring: Keyring;
  /** Set when this start generated the key file: log it, the operator must back the file up. */
  backupNotice: string | null;
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

export async function prepareSecretKeys(db: Queryable, source: KeySource = {}): Promise<PreparedSecretKeys> {
  const stored = await countSecretsByKey(db);
  const secretCount = (ids: Iterable<string>) => [...ids].reduce((sum, id) => sum + (stored.get(id) ?? 0), 0);
  const file = keyFilePath(source.dataDir ?? dataDirFromEnv(source.env ?? process.env));

  let keyring = readKeyring(source);
  let backupNotice: string | null = null;
  if (keyring === null) {
    if (stored.size > 0) {
      throw new SecretKeyError(
        `no secret key, but the database holds ${plural(secretCount(stored.keys()), 'secret')} encrypted with key ${[...stored.keys()].join(', ')}: ` +
          `restore ${file} from your backup, or set BUILDIT_SECRET_KEY to that key (docs/secrets.md)`,
      );
    }
    const created = createKeyFile(file);
    keyring = loadKeyring(source); // ours, or the one another process created first
    if (created) {
      backupNotice =
        `generated the secret key ${file} (key ${created.id}): back it up, apart from the database backups. ` +
        'Without it the secrets in the database cannot be decrypted; set BUILDIT_SECRET_KEY instead to manage the key yourself.';
    }
  }

  const unknown = [...stored.keys()].filter((id) => !findKey(keyring, id));
  if (unknown.length > 0) {
    throw new SecretKeyError(
      `wrong secret key: ${plural(secretCount(unknown), 'secret')} in the database ${secretCount(unknown) === 1 ? 'is' : 'are'} encrypted with key ${unknown.join(', ')}, ` +
        `but ${keyring.source} holds key ${keyIds(keyring).join(', ')}. Set the key they were encrypted with (BUILDIT_SECRET_KEY, or restore ${file}); ` +
        'while rotating keys, keep the old one in BUILDIT_SECRET_KEY_PREVIOUS until `buildit admin rotate-secret-key` has run (docs/secrets.md)',
    );
  }
  return { keyring, backupNotice };
}
