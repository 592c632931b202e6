/**
 * Key rotation on a real PostgreSQL: while secrets are being set and read, with a secret no key can
 * decrypt, and what it keeps (who set a secret and when).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sleep } from '../../lib/async';
import { decryptValue } from '../../lib/secrets/cipher';
import { loadKeyring, secretKey, SecretKeyError, type KeySource } from '../../lib/secrets/keys';
import { rotateSecretKey } from '../../lib/secrets/rotate';
import { prepareSecretKeys } from '../../lib/secrets/startup';
import { readSecretValues, withSecretKeys, writeSecret } from '../../lib/secrets/store';
import { seedTenant } from '../runs/helpers';
import { createTestDatabase, type TestDatabase } from '../support/db';

const dir = mkdtempSync(path.join(os.tmpdir(), 'buildit-secret-rotation-'));
let db: TestDatabase;
let tenantId: string;
let userId: string;
let dataDirs = 0;

before(async () => {
  db = await createTestDatabase();
  const seeded = await seedTenant(db.prisma);
  tenantId = seeded.tenantId;
  userId = seeded.actor.userId!;
});

after(async () => {
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** A key file of its own, and the database emptied of the previous test's secrets. */
async function freshInstall(): Promise<KeySource> {
  await db.prisma.secret.deleteMany();
  const source = { env: {}, dataDir: path.join(dir, String(++dataDirs)) };
  await prepareSecretKeys(db.pool, source);
  return source;
}

function set(source: KeySource, name: string, value: string) {
  return withSecretKeys(db.prisma, source, (tx, keyring) => writeSecret(tx, keyring, { tenantId, name, value, userId }));
}

test('readers and writers that hold the keyring finish before a rotation re-encrypts, so none meets a key it lacks', async () => {
  const source = await freshInstall();
  await set(source, 'READ', 'read-value-1234');
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  // Both load the keyring (the old key only), then wait while the rotation starts.
  const reader = withSecretKeys(db.prisma, source, async (tx, keyring) => {
    await gate;
    const row = await tx.secret.findUniqueOrThrow({ where: { tenantId_name: { tenantId, name: 'READ' } } });
    return decryptValue(keyring, row, { tenantId, name: 'READ' });
  });
  const writer = withSecretKeys(db.prisma, source, async (tx, keyring) => {
    await gate;
    return writeSecret(tx, keyring, { tenantId, name: 'WRITTEN', value: 'written-value-1234', userId });
  });
  // Both hold the shared lock (and so their keyring) before the rotation starts: waited for, not guessed.
  while (
    Number(
      (
        await db.pool.query(
          "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND mode = 'ShareLock' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
      ).rows[0].count,
    ) < 2
  )
    await sleep(20);
  let rotated = false;
  const rotation = rotateSecretKey(db.prisma, source).finally(() => (rotated = true));
  await sleep(300);
  assert.equal(rotated, false, 'the rotation waits for them');
  release();
  assert.equal(await reader, 'read-value-1234');
  await writer;
  const result = await rotation;
  assert.equal(result.reencrypted, 2, "the writer's row, encrypted with the old key, is re-encrypted too");
  assert.deepEqual(await readSecretValues(db.prisma, tenantId, ['READ', 'WRITTEN'], source), { READ: 'read-value-1234', WRITTEN: 'written-value-1234' });
  assert.equal(loadKeyring(source).previous.length, 0, 'the key file holds the new key only');
});

test('rotations while secrets are set and read: every secret ends up under the last key, readable', async () => {
  const source = await freshInstall();
  const expected = new Map<string, string>();
  let stop = false;
  const traffic = (async () => {
    for (let i = 0; !stop; i++) {
      const value = `during-${i}-${randomBytes(8).toString('hex')}`;
      expected.set(`DURING_${i % 20}`, value);
      await set(source, `DURING_${i % 20}`, value);
      assert.equal((await readSecretValues(db.prisma, tenantId, expected.keys(), source))[`DURING_${i % 20}`], value);
    }
  })();
  let last = '';
  for (let round = 0; round < 3; round++) last = (await rotateSecretKey(db.prisma, source)).keyId;
  stop = true;
  await traffic;
  assert.deepEqual(await db.prisma.secret.groupBy({ by: ['keyId'], _count: true }), [{ keyId: last, _count: expected.size }]);
  assert.deepEqual(await readSecretValues(db.prisma, tenantId, expected.keys(), source), Object.fromEntries(expected));
});

test('a secret no key decrypts stops the rotation, naming it; the key file keeps every key, so nothing became unreadable', async () => {
  const source = await freshInstall();
  await set(source, 'GOOD', 'good-value-1234');
  const foreign = { current: secretKey(randomBytes(32)), previous: [], source: 'a lost key' };
  await withSecretKeys(db.prisma, source, (tx) => writeSecret(tx, foreign, { tenantId, name: 'ORPHAN', value: 'orphan-value', userId }));
  const before = loadKeyring(source);

  await assert.rejects(rotateSecretKey(db.prisma, source), (error: unknown) => {
    assert.ok(error instanceof SecretKeyError);
    assert.match(error.message, new RegExp(`^secret "ORPHAN" is encrypted with key ${foreign.current.id}, which `));
    return true;
  });
  const during = loadKeyring(source);
  assert.deepEqual(
    during.previous.map((key) => key.id),
    [before.current.id],
    'the new key is current, the old one still there',
  );
  assert.deepEqual(await readSecretValues(db.prisma, tenantId, ['GOOD'], source), { GOOD: 'good-value-1234' });

  await db.prisma.secret.delete({ where: { tenantId_name: { tenantId, name: 'ORPHAN' } } });
  const finished = await rotateSecretKey(db.prisma, source);
  assert.deepEqual(finished.retiredKeyIds.sort(), [before.current.id, during.current.id].sort());
  assert.deepEqual(await readSecretValues(db.prisma, tenantId, ['GOOD'], source), { GOOD: 'good-value-1234' });
});

test('a rotation keeps when and by whom a secret was set: its value did not change', async () => {
  const source = await freshInstall();
  await set(source, 'KEPT', 'kept-value-1234');
  const before = await db.prisma.secret.findUniqueOrThrow({ where: { tenantId_name: { tenantId, name: 'KEPT' } } });
  await rotateSecretKey(db.prisma, source);
  const after = await db.prisma.secret.findUniqueOrThrow({ where: { tenantId_name: { tenantId, name: 'KEPT' } } });
  assert.notEqual(after.keyId, before.keyId);
  assert.notDeepEqual(after.ciphertext, before.ciphertext);
  assert.deepEqual([after.updatedAt, after.updatedById, after.createdAt], [before.updatedAt, before.updatedById, before.createdAt]);
});
