import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import {
  bootstrapTokenFromEnv,
  databasePoolSizeFromEnv,
  databaseUrlFromEnv,
  dataDirFromEnv,
  dbRetryMsFromEnv,
  logCapBytesFromEnv,
  logLevelFromEnv,
  migrationsDirFromEnv,
  previousSecretKeysFromEnv,
  schedulerEnabledFromEnv,
  secretKeyFromEnv,
  webHostFromEnv,
  webPortFromEnv,
  workerConcurrencyFromEnv,
  workerExecutorsFromEnv,
  workerGraceMsFromEnv,
  workerIdFromEnv,
  workerLeaseMsFromEnv,
} from './env';
import { decodeKey, intFromEnv, namesFromEnv, oneOfFromEnv, stringFromEnv } from './parse';

/** Asserts that `fn` throws exactly `message`. */
const throwsMessage = (fn: () => unknown, message: string) => assert.throws(fn, { message });

test('unset and blank are the default; values are trimmed', () => {
  assert.equal(stringFromEnv('X', {}), undefined);
  assert.equal(stringFromEnv('X', { X: '  ' }), undefined);
  assert.equal(stringFromEnv('X', { X: ' a b ' }), 'a b');
  assert.equal(intFromEnv('N', { fallback: 7, min: 0 }, { N: ' ' }), 7);
  assert.equal(oneOfFromEnv('M', ['a', 'b'], 'a', { M: '' }), 'a');
  assert.equal(namesFromEnv('L', ['a', 'b'], { L: ' ' }), undefined);
});

test('intFromEnv: a decimal integer in range, else an error naming the variable, the range and the value', () => {
  const rule = { fallback: 1, min: 1 };
  assert.equal(intFromEnv('N', rule, { N: ' 42 ' }), 42);
  assert.equal(intFromEnv('N', { fallback: 1, min: 1, max: 10 }, { N: '10' }), 10);
  for (const raw of ['lots', '1.5', '1e3', '0x10', '12abc']) throwsMessage(() => intFromEnv('N', rule, { N: raw }), `N must be an integer >= 1, got "${raw}"`);
  throwsMessage(() => intFromEnv('N', rule, { N: '0' }), 'N must be an integer >= 1, got "0"');
  throwsMessage(() => intFromEnv('N', rule, { N: '99999999999999999999' }), 'N must be an integer >= 1, got "99999999999999999999"');
  throwsMessage(() => intFromEnv('N', { fallback: 1, min: 1, max: 10, hint: 'seconds' }, { N: '11' }), 'N must be an integer from 1 to 10 (seconds), got "11"');
});

test('oneOfFromEnv: one of the allowed values', () => {
  assert.equal(oneOfFromEnv('M', ['on', 'off'], 'on', { M: 'off' }), 'off');
  throwsMessage(() => oneOfFromEnv('M', ['on', 'off'], 'on', { M: 'no' }), 'M must be one of on, off, got "no"');
});

test('namesFromEnv: a comma-separated list of known names, duplicates dropped', () => {
  assert.deepEqual(namesFromEnv('L', ['a', 'b'], { L: ' b, a ,b,' }), ['b', 'a']);
  throwsMessage(() => namesFromEnv('L', ['a', 'b'], { L: 'a,c' }), 'L must be a comma-separated list of a, b, got "a,c"');
  throwsMessage(() => namesFromEnv('L', ['a', 'b'], { L: ' , ' }), 'L must be a comma-separated list of a, b, got ","');
  throwsMessage(() => namesFromEnv('L', ['a'], { L: 'c' }, 'c is gone'), 'L must be a comma-separated list of a (c is gone), got "c"');
});

test('BUILDIT_DATA_DIR: absolute, relative to the working directory, `.data` by default', () => {
  assert.equal(dataDirFromEnv({}), path.join(process.cwd(), '.data'));
  assert.equal(dataDirFromEnv({ BUILDIT_DATA_DIR: 'state' }), path.join(process.cwd(), 'state'));
  assert.equal(dataDirFromEnv({ BUILDIT_DATA_DIR: '/var/lib/buildit/' }), '/var/lib/buildit');
});

test('database settings', () => {
  assert.equal(databaseUrlFromEnv({}), undefined);
  assert.equal(databaseUrlFromEnv({ DATABASE_URL: ' postgres://u:p@db/buildit ' }), 'postgres://u:p@db/buildit');
  throwsMessage(
    () => databaseUrlFromEnv({ DATABASE_URL: 'mysql://db' }),
    'DATABASE_URL must be a PostgreSQL URL (postgresql://user:password@host:port/database)',
  );
  assert.equal(databasePoolSizeFromEnv({}), 10);
  throwsMessage(() => databasePoolSizeFromEnv({ DATABASE_POOL_SIZE: '0' }), 'DATABASE_POOL_SIZE must be an integer >= 1, got "0"');
  assert.equal(migrationsDirFromEnv({}), undefined);
  assert.equal(migrationsDirFromEnv({ BUILDIT_MIGRATIONS_DIR: '/opt/buildit/migrations' }), '/opt/buildit/migrations');
});

test('web and log settings', () => {
  assert.equal(webPortFromEnv({}), 3000);
  throwsMessage(() => webPortFromEnv({ PORT: '70000' }), 'PORT must be an integer from 1 to 65535, got "70000"');
  assert.equal(webHostFromEnv({}), '0.0.0.0');
  assert.equal(webHostFromEnv({ HOST: '127.0.0.1' }), '127.0.0.1');
  assert.equal(bootstrapTokenFromEnv({ BUILDIT_BOOTSTRAP_TOKEN: ' bk_x ' }), 'bk_x');
  assert.equal(logLevelFromEnv({}), 'info');
  throwsMessage(
    () => logLevelFromEnv({ BUILDIT_LOG_LEVEL: 'verbose' }),
    'BUILDIT_LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent, got "verbose"',
  );
});

test('worker settings', () => {
  assert.equal(workerIdFromEnv({ BUILDIT_WORKER_ID: 'w1' }), 'w1');
  assert.match(workerIdFromEnv({}), new RegExp(`-${process.pid}-[0-9a-f]{8}$`));
  assert.equal(workerConcurrencyFromEnv({}), 4);
  throwsMessage(() => workerConcurrencyFromEnv({ BUILDIT_WORKER_CONCURRENCY: 'lots' }), 'BUILDIT_WORKER_CONCURRENCY must be an integer >= 1, got "lots"');
  assert.equal(workerGraceMsFromEnv({}), 30_000);
  throwsMessage(() => workerGraceMsFromEnv({ BUILDIT_WORKER_GRACE_MS: 'soon' }), 'BUILDIT_WORKER_GRACE_MS must be an integer >= 0, got "soon"');
  assert.equal(workerLeaseMsFromEnv({}), 15_000);
  throwsMessage(() => workerLeaseMsFromEnv({ BUILDIT_WORKER_LEASE_MS: '100' }), 'BUILDIT_WORKER_LEASE_MS must be an integer >= 300, got "100"');
  assert.equal(schedulerEnabledFromEnv({}), true);
  assert.equal(schedulerEnabledFromEnv({ BUILDIT_SCHEDULER: 'off' }), false);
  throwsMessage(() => schedulerEnabledFromEnv({ BUILDIT_SCHEDULER: 'false' }), 'BUILDIT_SCHEDULER must be one of on, off, got "false"');
  assert.deepEqual(workerExecutorsFromEnv({}), ['docker']);
  assert.deepEqual(workerExecutorsFromEnv({ BUILDIT_WORKER_EXECUTORS: 'docker,local' }), ['docker', 'local']);
  throwsMessage(
    () => workerExecutorsFromEnv({ BUILDIT_WORKER_EXECUTORS: 'docker,kubernetes' }),
    'BUILDIT_WORKER_EXECUTORS must be a comma-separated list of docker, local (the kubernetes executor is not available yet), got "docker,kubernetes"',
  );
  assert.equal(logCapBytesFromEnv({}), 100 * 1024 * 1024);
  assert.equal(logCapBytesFromEnv({ BUILDIT_LOG_CAP_BYTES: '4096' }), 4096);
  throwsMessage(
    () => logCapBytesFromEnv({ BUILDIT_LOG_CAP_BYTES: '10MB' }),
    'BUILDIT_LOG_CAP_BYTES must be an integer >= 1 (bytes: 104857600 is 100 MiB), got "10MB"',
  );
  assert.equal(dbRetryMsFromEnv({}), 60_000);
  assert.equal(dbRetryMsFromEnv({ BUILDIT_DB_RETRY_MS: '0' }), 0);
  throwsMessage(() => dbRetryMsFromEnv({ BUILDIT_DB_RETRY_MS: '1m' }), 'BUILDIT_DB_RETRY_MS must be an integer >= 0 (milliseconds), got "1m"');
});

test('secret keys: 32 bytes in base64 or hex; a bad value is described by its length, never shown', () => {
  const key = Buffer.alloc(32, 7);
  assert.deepEqual(decodeKey(key.toString('base64')), key);
  assert.deepEqual(decodeKey(key.toString('base64').replace(/=$/, '')), key);
  assert.deepEqual(decodeKey(` ${key.toString('hex').toUpperCase()} `), key);
  for (const bad of ['', 'short', Buffer.alloc(31).toString('base64'), Buffer.alloc(33).toString('hex'), `${key.toString('hex').slice(1)}g`]) {
    assert.equal(decodeKey(bad), undefined, bad);
  }
  assert.equal(secretKeyFromEnv({}), undefined);
  assert.deepEqual(secretKeyFromEnv({ BUILDIT_SECRET_KEY: key.toString('base64') }), key);
  throwsMessage(
    () => secretKeyFromEnv({ BUILDIT_SECRET_KEY: 'hunter2-is-my-key' }),
    'BUILDIT_SECRET_KEY must be 32 bytes written in base64 (44 characters) or as 64 hex digits (generate one with `openssl rand -base64 32`), got a value of 17 characters',
  );
  throwsMessage(
    () => secretKeyFromEnv({ BUILDIT_SECRET_KEY: `${key.toString('hex')},${key.toString('hex')}` }),
    'BUILDIT_SECRET_KEY must be one key (older keys that must stay readable go in BUILDIT_SECRET_KEY_PREVIOUS)',
  );
  const old = Buffer.alloc(32, 9);
  assert.deepEqual(previousSecretKeysFromEnv({}), []);
  assert.deepEqual(
    previousSecretKeysFromEnv({ BUILDIT_SECRET_KEY: key.toString('hex'), BUILDIT_SECRET_KEY_PREVIOUS: `${old.toString('base64')}, ${key.toString('hex')}` }),
    [old, key],
  );
  throwsMessage(
    () => previousSecretKeysFromEnv({ BUILDIT_SECRET_KEY_PREVIOUS: old.toString('hex') }),
    'BUILDIT_SECRET_KEY_PREVIOUS needs BUILDIT_SECRET_KEY: the previous keys only decrypt, the current key encrypts',
  );
});
