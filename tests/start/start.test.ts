/**
 * `npm start` end to end: the real start script, web server, worker and embedded PostgreSQL.
 * Needs a production build (.ci/run builds one before the tests; without it the first start builds it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freeLoopbackPort } from '../../lib/system';
import { withDatabase } from '../support/db';
import { fetchStatus, processesMentioning, startBuildIt, stopWith, waitForReady } from '../support/buildit-process';
import { embeddedUrl, envWithout, withClient } from './helpers';

const root = path.resolve(import.meta.dirname, '../..');

test('npm start on the embedded PostgreSQL: ready, Ctrl-C leaves no process, a second start reuses the data', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'buildit-start-'));
  try {
    const token = `bk_${'start-test-token'.padEnd(43, 'x')}`;
    const env = envWithout(['DATABASE_URL'], { BUILDIT_DATA_DIR: dataDir, BUILDIT_BOOTSTRAP_TOKEN: token });

    const first = startBuildIt(env, await freeLoopbackPort());
    await waitForReady(first);
    assert.equal(await fetchStatus(`http://127.0.0.1:${first.port}/health`), 200);
    assert.ok(
      first.output.some((line) => line.startsWith('[worker]') && line.includes('worker ready')),
      'the worker reports ready',
    );
    // The API answers through the real Next server with the bootstrap token, and refuses without it.
    const tenants = await fetch(`http://127.0.0.1:${first.port}/api/v1/tenants`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(tenants.status, 200);
    assert.deepEqual(
      ((await tenants.json()) as { items: Array<{ slug: string }> }).items.map((tenant) => tenant.slug),
      ['default'],
    );
    assert.equal(await fetchStatus(`http://127.0.0.1:${first.port}/api/v1/tenants`), 401);
    await withClient(embeddedUrl(dataDir), (client) =>
      client.query(`INSERT INTO organizations (id, slug, name, updated_at) VALUES ('org-start-test', 'kept', 'Kept', now())`),
    );
    assert.equal(await stopWith(first, 'SIGINT', { group: true }), 0);
    assert.deepEqual(processesMentioning(dataDir), [], 'no process of that BuildIt is left after Ctrl-C');
    // The database outlives the web and worker: none of them saw its connections terminated.
    assert.deepEqual(
      first.output.filter((line) => /uncaughtException|terminating connection|Connection terminated/.test(line)),
      [],
    );

    const second = startBuildIt(env, await freeLoopbackPort());
    await waitForReady(second);
    const kept = await withClient(embeddedUrl(dataDir), (client) => client.query(`SELECT slug FROM organizations WHERE id = 'org-start-test'`));
    assert.deepEqual(kept.rows, [{ slug: 'kept' }], 'the row written before the restart is still there');
    assert.equal(await stopWith(second, 'SIGTERM'), 0);
    assert.deepEqual(processesMentioning(dataDir), []);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('npm start with DATABASE_URL migrates and uses that database, and starts no embedded one', async () => {
  const adminUrl = process.env.BUILDIT_TEST_PG_URL;
  assert.ok(adminUrl, 'run through `npm test`, which provides BUILDIT_TEST_PG_URL');
  const database = `start_external_${process.pid}`;
  await withClient(adminUrl, (client) => client.query(`CREATE DATABASE ${database}`));
  const dataDir = mkdtempSync(path.join(tmpdir(), 'buildit-start-ext-'));
  try {
    const url = withDatabase(adminUrl, database);
    const started = startBuildIt({ ...process.env, DATABASE_URL: url, BUILDIT_DATA_DIR: dataDir }, await freeLoopbackPort());
    await waitForReady(started);
    const migrations = readdirSync(path.join(root, 'prisma/migrations')).filter((name) =>
      existsSync(path.join(root, 'prisma/migrations', name, 'migration.sql')),
    );
    const applied = await withClient(url, (client) => client.query('SELECT count(*)::int AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL'));
    assert.equal(applied.rows[0].n, migrations.length, 'every migration is applied to the DATABASE_URL database');
    assert.equal(existsSync(path.join(dataDir, 'postgres')), false, 'no embedded cluster was created');
    assert.equal(await stopWith(started, 'SIGTERM'), 0);
    assert.deepEqual(processesMentioning(dataDir), []);
  } finally {
    await withClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('npm start with a malformed setting (its own, or one of the web server or the worker) says which and exits 1 before starting anything', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'buildit-start-bad-'));
  try {
    const cases: Array<[Record<string, string>, string]> = [
      [{ BUILDIT_WORKER_GRACE_MS: 'soon' }, 'BUILDIT_WORKER_GRACE_MS must be an integer >= 0, got "soon"'],
      [{ BUILDIT_WORKER_EXECUTORS: 'docker,podman' }, 'BUILDIT_WORKER_EXECUTORS must be a comma-separated list of docker, local'],
      [{ BUILDIT_LOG_LEVEL: 'loud' }, 'BUILDIT_LOG_LEVEL must be'],
    ];
    for (const [setting, message] of cases) {
      const started = startBuildIt(envWithout(['DATABASE_URL'], { BUILDIT_DATA_DIR: dataDir, ...setting }), await freeLoopbackPort());
      // 'close': after the exit AND the end of its output.
      const code = await new Promise<number | null>((resolve) => started.process.once('close', resolve));
      assert.equal(code, 1);
      assert.ok(
        started.output.some((line) => line.startsWith(`[buildit] failed to start: ${message}`)),
        started.output.join('\n'),
      );
      assert.equal(existsSync(path.join(dataDir, 'postgres')), false, 'no database was started');
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
