import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { decryptValue, encryptValue } from './cipher';
import { createKeyFile, keyFilePath, loadKeyring, readKeyring, replaceKeyFile, secretKey, SecretKeyError, type Keyring } from './keys';

const dir = mkdtempSync(path.join(os.tmpdir(), 'buildit-secret-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => path.join(dir, String(++dirs));

const keyring = (...keys: Buffer[]): Keyring => ({ current: secretKey(keys[0]!), previous: keys.slice(1).map(secretKey), source: 'test' });
const address = { tenantId: 'tenant1', name: 'TOKEN' };

test('a key id is 16 hex digits, the same for the same key and different for another', () => {
  const bytes = randomBytes(32);
  assert.match(secretKey(bytes).id, /^[0-9a-f]{16}$/);
  assert.equal(secretKey(Buffer.from(bytes)).id, secretKey(bytes).id);
  assert.notEqual(secretKey(randomBytes(32)).id, secretKey(bytes).id);
});

test('BUILDIT_SECRET_KEY (base64 or hex) wins over the key file; BUILDIT_SECRET_KEY_PREVIOUS adds keys that decrypt', () => {
  const current = randomBytes(32);
  const old = randomBytes(32);
  const dataDir = freshDir();
  createKeyFile(keyFilePath(dataDir));
  const fromEnv = loadKeyring({ env: { BUILDIT_SECRET_KEY: current.toString('base64'), BUILDIT_SECRET_KEY_PREVIOUS: old.toString('hex') }, dataDir });
  assert.equal(fromEnv.source, 'BUILDIT_SECRET_KEY');
  assert.equal(fromEnv.current.id, secretKey(current).id);
  assert.deepEqual(
    fromEnv.previous.map((key) => key.id),
    [secretKey(old).id],
  );
  assert.equal(loadKeyring({ env: { BUILDIT_SECRET_KEY: current.toString('hex') }, dataDir }).current.id, secretKey(current).id);
});

test('the key file: created once with mode 0600 (a second creation keeps the first key), one base64 key per line, current first', () => {
  const dataDir = freshDir();
  const file = keyFilePath(dataDir);
  assert.equal(readKeyring({ env: {}, dataDir }), null);
  assert.throws(
    () => loadKeyring({ env: {}, dataDir }),
    (error: unknown) => error instanceof SecretKeyError && /no secret key/.test(error.message),
  );
  const created = createKeyFile(file);
  assert.ok(created);
  assert.equal(createKeyFile(file), null, 'another process created it first');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.match(readFileSync(file, 'utf8'), /^[A-Za-z0-9+/]{43}=\n$/);
  const loaded = loadKeyring({ env: {}, dataDir });
  assert.equal(loaded.current.id, created.id);
  assert.equal(loaded.source, file);

  const next = secretKey(randomBytes(32));
  replaceKeyFile(file, [next, created]);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const rotated = loadKeyring({ env: {}, dataDir });
  assert.deepEqual([rotated.current.id, ...rotated.previous.map((key) => key.id)], [next.id, created.id]);
});

test('a damaged key file is an error that says to restore it, without its content', () => {
  const dataDir = freshDir();
  const file = keyFilePath(dataDir);
  replaceKeyFile(file, [secretKey(randomBytes(32))]);
  writeFileSync(file, 'not-a-key-but-a-secret-looking-text\n');
  assert.throws(
    () => loadKeyring({ env: {}, dataDir }),
    (error: unknown) =>
      error instanceof SecretKeyError &&
      error.message.includes(`line 1 of the secret key file ${file} is not a key`) &&
      !error.message.includes('secret-looking'),
  );
  writeFileSync(file, '\n');
  assert.throws(() => loadKeyring({ env: {}, dataDir }), /is empty: restore it from your backup/);
});

test('AES-256-GCM: round trip under the current key, and with a previous key after the current one changed', () => {
  const old = randomBytes(32);
  const value = 'pässwörd\nsecond line\n';
  const encrypted = encryptValue(secretKey(old), value, address);
  assert.equal(encrypted.keyId, secretKey(old).id);
  assert.equal(encrypted.iv.byteLength, 12);
  assert.equal(encrypted.authTag.byteLength, 16);
  assert.ok(!Buffer.from(encrypted.ciphertext).toString('utf8').includes('pässwörd'));
  assert.equal(decryptValue(keyring(old), encrypted, address), value);
  assert.equal(decryptValue(keyring(randomBytes(32), old), encrypted, address), value);
  assert.notDeepEqual(encryptValue(secretKey(old), value, address).iv, encrypted.iv, 'a fresh IV each time');
});

test('a ciphertext is bound to its tenant and name, and altered data does not decrypt', () => {
  const key = randomBytes(32);
  const encrypted = encryptValue(secretKey(key), 'value-1234', address);
  for (const other of [
    { tenantId: 'tenant2', name: 'TOKEN' },
    { tenantId: 'tenant1', name: 'OTHER' },
  ]) {
    assert.throws(() => decryptValue(keyring(key), encrypted, other), /does not decrypt with key .*: its stored data was altered/);
  }
  const flipped = new Uint8Array(encrypted.ciphertext);
  flipped[0]! ^= 1;
  assert.throws(() => decryptValue(keyring(key), { ...encrypted, ciphertext: flipped }, address), SecretKeyError);
});

test('a ciphertext of a key the keyring lacks names the secret and both key ids', () => {
  const encrypted = encryptValue(secretKey(randomBytes(32)), 'value-1234', address);
  const other = keyring(randomBytes(32));
  assert.throws(
    () => decryptValue(other, encrypted, address),
    (error: unknown) =>
      error instanceof SecretKeyError &&
      error.message.startsWith(`secret "TOKEN" is encrypted with key ${encrypted.keyId}, which test does not hold (it has ${other.current.id})`),
  );
});
