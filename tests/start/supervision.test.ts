/**
 * `npm start` as a supervisor: a crashed worker is restarted while the web keeps serving, and when `npm start`
 * itself is killed with SIGKILL (no handler runs), its web, worker and embedded PostgreSQL stop on their own.
 * Real processes: scripts/start.ts, the web server, the worker and the embedded PostgreSQL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sleep } from '../../lib/async';
import { freeLoopbackPort, isProcessAlive } from '../../lib/system';
import { fetchStatus, processesMentioning, startBuildIt, stopWith, waitForReady, type StartedBuildIt } from '../support/buildit-process';
import { childPids, envWithout, waitUntil } from './helpers';

/** The one live child of the start script running `script` (server.ts, worker/main.ts). */
function childRunning(started: StartedBuildIt, script: string): number | undefined {
  const pids = childPids(started.process.pid!, script);
  assert.ok(pids.length <= 1, `one ${script} at a time, got ${pids.join(', ')}`);
  return pids[0];
}

const workerReadyLines = (started: StartedBuildIt) => started.output.filter((line) => line.startsWith('[worker]') && line.includes('worker ready')).length;

/**
 * Runs `body` against a fresh `npm start` (on an embedded PostgreSQL, with `env` added) once its web is ready;
 * whatever happens, nothing of it is left running.
 */
async function withBuildIt(prefix: string, env: Record<string, string>, body: (started: StartedBuildIt, dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), prefix));
  try {
    const started = startBuildIt(envWithout(['DATABASE_URL'], { ...env, BUILDIT_DATA_DIR: dataDir }), await freeLoopbackPort());
    await waitForReady(started);
    await body(started, dataDir);
  } finally {
    // Only after a failure: processes of this test that outlived it (all of them mention its data dir).
    for (const line of processesMentioning(dataDir)) process.kill(Number(line.split(':')[0]), 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

test('a worker killed with SIGKILL is restarted, and the web answers /health/ready all along', async (t) => {
  await withBuildIt('buildit-supervise-', {}, async (started) => {
    await waitUntil('the worker to be ready', () => workerReadyLines(started) === 1);
    const web = childRunning(started, 'server.ts');
    const worker = childRunning(started, 'worker/main.ts');
    assert.ok(web && worker, started.output.join('\n'));

    const statuses: Array<number | null> = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        statuses.push(await fetchStatus(`http://127.0.0.1:${started.port}/health/ready`));
        await sleep(100);
      }
    })();
    const killedAt = performance.now();
    process.kill(worker, 'SIGKILL');
    const restarted = await waitUntil('a new worker', () => childRunning(started, 'worker/main.ts') !== worker && childRunning(started, 'worker/main.ts'));
    await waitUntil('the new worker to be ready', () => workerReadyLines(started) === 2);
    t.diagnostic(`worker killed -> new worker ready: ${(performance.now() - killedAt).toFixed(0)} ms`);
    polling = false;
    await poller;

    assert.ok(started.output.includes('[buildit] worker exited (SIGKILL); restarting in 1 s'), started.output.join('\n'));
    // The start of each child is logged with its pid.
    assert.ok(started.output.includes(`[buildit] worker started (pid ${worker})`));
    assert.ok(started.output.includes(`[buildit] worker started (pid ${restarted})`));
    assert.ok(statuses.length > 0);
    assert.deepEqual(
      statuses.filter((status) => status !== 200),
      [],
      '/health/ready answered 200 throughout',
    );
    assert.equal(childRunning(started, 'server.ts'), web, 'the same web server kept running');
    assert.equal(await stopWith(started, 'SIGTERM'), 0);
  });
});

test('npm start killed with SIGKILL: its web server, worker and embedded PostgreSQL stop on their own', async (t) => {
  await withBuildIt('buildit-supervisor-killed-', {}, async (started, dataDir) => {
    await waitUntil('the worker to be ready', () => workerReadyLines(started) === 1);
    const web = childRunning(started, 'server.ts');
    const worker = childRunning(started, 'worker/main.ts');
    const postgres = Number(readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    assert.ok(web && worker && isProcessAlive(postgres), started.output.join('\n'));

    const killedAt = performance.now();
    started.process.kill('SIGKILL');
    await waitUntil('web, worker and PostgreSQL to stop', () => ![web, worker, postgres].some(isProcessAlive), 60_000);
    t.diagnostic(`npm start killed -> web, worker and PostgreSQL gone: ${(performance.now() - killedAt).toFixed(0)} ms`);
    await waitUntil('no process of it to be left', () => processesMentioning(dataDir).length === 0, 30_000);
  });
});

test('a worker that fails at every start is restarted after 1 s, 2 s, 4 s, and Ctrl-C stops BuildIt during a wait', async () => {
  // An unknown job kind: the worker says so and exits 1 at once, every time.
  await withBuildIt('buildit-crash-loop-', { BUILDIT_WORKER_KINDS: 'no-such-kind' }, async (started) => {
    const delays = () => started.output.flatMap((line) => /^\[buildit\] worker exited \(code 1\); restarting in (\d+) s$/.exec(line)?.[1] ?? []);
    await waitUntil('three restarts', () => delays().length >= 3);
    assert.deepEqual(delays().slice(0, 3), ['1', '2', '4']);
    assert.ok(
      started.output.some((line) => line.startsWith('[worker]') && line.includes('BUILDIT_WORKER_KINDS must be a comma-separated list of')),
      'the worker says why',
    );
    assert.equal(await fetchStatus(`http://127.0.0.1:${started.port}/health/ready`), 200, 'the web serves meanwhile');
    assert.equal(await stopWith(started, 'SIGINT', { group: true }), 0);
  });
});
