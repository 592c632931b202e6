/**
 * The secret key at start-up, on a real PostgreSQL: generated once into the data dir, checked against the
 * key ids the database holds; and the real processes (npm start's scripts/start.ts, the web server, the
 * worker) refusing to start with a wrong key, with a message that says what to do.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { keyFilePath, loadKeyring, SecretKeyError, secretKey } from '../../lib/secrets/keys';
import { prepareSecretKeys } from '../../lib/secrets/startup';
import { withSecretKeys, writeSecret } from '../../lib/secrets/store';
import { freeLoopbackPort } from '../../lib/system';
import { seedTenant } from '../runs/helpers';
import { createTestDatabase, type TestDatabase } from '../support/db';

const root = path.resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'buildit-secret-startup-'));
let db: TestDatabase;
/** The data dir whose key file encrypted the database's secret. */
const dataDir = path.join(dir, 'data');

before(async () => {
  db = await createTestDatabase();
  const { tenantId } = await seedTenant(db.prisma);
  await prepareSecretKeys(db.pool, { env: {}, dataDir });
  await withSecretKeys(db.prisma, { env: {}, dataDir }, (tx, keyring) =>
    writeSecret(tx, keyring, { tenantId, name: 'TOKEN', value: 'token-value-1234', userId: null }),
  );
});

after(async () => {
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const keyIdOf = (dataDirectory: string) => loadKeyring({ env: {}, dataDir: dataDirectory }).current.id;

describe('prepareSecretKeys', () => {
  test('an empty database: the first start generates the key file (0600) and says to back it up; later starts reuse it', async () => {
    const empty = await createTestDatabase();
    try {
      const fresh = path.join(dir, 'fresh');
      const first = await prepareSecretKeys(empty.pool, { env: {}, dataDir: fresh });
      assert.equal(
        first.backupNotice,
        `generated the secret key ${keyFilePath(fresh)} (key ${first.keyring.current.id}): back it up, apart from the database backups. Without it the secrets in the database cannot be decrypted; set BUILDIT_SECRET_KEY instead to manage the key yourself.`,
      );
      assert.equal(statSync(keyFilePath(fresh)).mode & 0o777, 0o600);
      const second = await prepareSecretKeys(empty.pool, { env: {}, dataDir: fresh });
      assert.equal(second.backupNotice, null);
      assert.equal(second.keyring.current.id, first.keyring.current.id);
      // A database without secrets accepts any key: nothing could be decrypted wrongly.
      assert.equal((await prepareSecretKeys(empty.pool, { env: { BUILDIT_SECRET_KEY: randomBytes(32).toString('hex') }, dataDir: fresh })).backupNotice, null);
    } finally {
      await empty.drop();
    }
  });

  test('the right key passes: from the key file, or as BUILDIT_SECRET_KEY, or as a previous key', async () => {
    const key = readFileSync(keyFilePath(dataDir), 'utf8').trim();
    assert.equal((await prepareSecretKeys(db.pool, { env: {}, dataDir })).keyring.current.id, keyIdOf(dataDir));
    const elsewhere = path.join(dir, 'elsewhere');
    assert.equal((await prepareSecretKeys(db.pool, { env: { BUILDIT_SECRET_KEY: key }, dataDir: elsewhere })).keyring.source, 'BUILDIT_SECRET_KEY');
    const env = { BUILDIT_SECRET_KEY: randomBytes(32).toString('base64'), BUILDIT_SECRET_KEY_PREVIOUS: key };
    assert.equal((await prepareSecretKeys(db.pool, { env, dataDir: elsewhere })).keyring.previous[0]!.id, keyIdOf(dataDir));
  });

  test('a wrong key fails with the key ids and what to do', async () => {
    const wrong = randomBytes(32);
    await assert.rejects(prepareSecretKeys(db.pool, { env: { BUILDIT_SECRET_KEY: wrong.toString('base64') }, dataDir }), (error: unknown) => {
      assert.ok(error instanceof SecretKeyError);
      assert.equal(
        error.message,
        `wrong secret key: 1 secret in the database is encrypted with key ${keyIdOf(dataDir)}, but BUILDIT_SECRET_KEY holds key ${secretKey(wrong).id}. ` +
          `Set the key they were encrypted with (BUILDIT_SECRET_KEY, or restore ${keyFilePath(dataDir)}); while rotating keys, keep the old one in ` +
          'BUILDIT_SECRET_KEY_PREVIOUS until `buildit admin rotate-secret-key` has run (docs/secrets.md)',
      );
      return true;
    });
  });

  test('a lost key file is not replaced by a new key while the database holds secrets', async () => {
    const lost = path.join(dir, 'lost');
    await assert.rejects(
      prepareSecretKeys(db.pool, { env: {}, dataDir: lost }),
      new SecretKeyError(
        `no secret key, but the database holds 1 secret encrypted with key ${keyIdOf(dataDir)}: restore ${keyFilePath(lost)} from your backup, ` +
          'or set BUILDIT_SECRET_KEY to that key (docs/secrets.md)',
      ),
    );
    assert.throws(() => statSync(keyFilePath(lost)), /ENOENT/, 'no key file was generated');
  });
});

interface Exit {
  code: number | null;
  output: string;
}

/** Runs a BuildIt entry point to its exit (it should not get far). */
function runToExit(script: string, env: Record<string, string>): Promise<Exit> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', script],
      {
        cwd: root,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', NODE_ENV: 'production', ...env },
        timeout: 120_000,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, output: stdout + stderr }),
    );
  });
}

describe('start-up with a wrong key', () => {
  const wrongKey = randomBytes(32).toString('base64');
  const expected = /wrong secret key: 1 secret in the database is encrypted with key [0-9a-f]{16}, but BUILDIT_SECRET_KEY holds key [0-9a-f]{16}/;

  for (const [name, script] of [
    ['the worker', 'worker/main.ts'],
    ['the web server', 'server.ts'],
    ['npm start', 'scripts/start.ts'],
  ] as const) {
    test(`${name} exits 1 with the message, and never shows the key`, async () => {
      const exit = await runToExit(script, {
        DATABASE_URL: db.url,
        BUILDIT_DATA_DIR: dataDir,
        BUILDIT_SECRET_KEY: wrongKey,
        PORT: String(await freeLoopbackPort()),
      });
      assert.equal(exit.code, 1, exit.output);
      assert.match(exit.output, expected);
      assert.ok(!exit.output.includes(wrongKey));
      if (script === 'scripts/start.ts') assert.doesNotMatch(exit.output, /(web|worker) started/, 'npm start stops before starting anything');
    });
  }
});
