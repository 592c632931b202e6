/**
 * `npm start` from a clone in a private directory (mode 0700, like /root, the home of root on Debian). As root the
 * embedded PostgreSQL runs as the `postgres` user, who cannot enter that directory: neither the cluster under
 * `.data` nor the binaries under node_modules are in its reach there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { freeLoopbackPort, isProcessAlive } from '../../lib/system';
import { processesMentioning, startBuildIt, stopWith, waitForReady } from '../support/buildit-process';
import { embeddedUrl, envWithout, makePrivateClone, withClient } from './helpers';

test('npm start from a clone in a 0700 directory: ready, data kept across a restart, the directory stays private', async () => {
  const clone = makePrivateClone();
  // `.data` of the clone, as without the variable; named so that processesMentioning finds every process of it.
  const dataDir = path.join(clone.repo, '.data');
  const env = envWithout(['DATABASE_URL'], { BUILDIT_DATA_DIR: dataDir });
  let clusterDir: string | undefined;
  try {
    const first = startBuildIt(env, await freeLoopbackPort(), { cwd: clone.repo });
    await waitForReady(first);
    const ready = first.output.map((line) => /^\[db\] embedded PostgreSQL ready \(data in (.+)\)$/.exec(line)).find(Boolean);
    assert.ok(ready, first.output.join('\n'));
    clusterDir = path.resolve(clone.repo, ready[1]!);
    assert.ok(existsSync(path.join(clusterDir, 'PG_VERSION')), `the log line names the cluster: ${ready[0]}`);
    assert.equal(statSync(clone.privateDir).mode & 0o777, 0o700, 'the private directory was not opened up');
    await withClient(embeddedUrl(dataDir), (client) => client.query('CREATE TABLE kept (name text); INSERT INTO kept VALUES ($$first start$$)'));
    const postmaster = Number(readFileSync(path.join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    assert.equal(await stopWith(first, 'SIGTERM'), 0);
    assert.equal(isProcessAlive(postmaster), false, 'the database stopped');

    const second = startBuildIt(env, await freeLoopbackPort(), { cwd: clone.repo });
    await waitForReady(second);
    const rows = await withClient(embeddedUrl(dataDir), (client) => client.query('SELECT name FROM kept'));
    assert.deepEqual(rows.rows, [{ name: 'first start' }], 'the second start found the same cluster');
    assert.equal(await stopWith(second, 'SIGINT', { group: true }), 0);
    assert.deepEqual(processesMentioning(dataDir), [], 'nothing of that BuildIt is left running');
  } finally {
    // A cluster kept outside the clone (where the postgres user can reach it) is this test's to delete too.
    if (clusterDir && !clusterDir.startsWith(clone.privateDir + path.sep)) rmSync(clusterDir, { recursive: true, force: true });
    clone.remove();
  }
});
