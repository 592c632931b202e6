/**
 * Server mode, resilience: the whole BuildIt (web + worker through scripts/start.ts) on a PostgreSQL that
 * restarts (crash-like, down for 2 s). Every process stays up: the web's pooled connections and the
 * Socket.IO adapter's LISTEN connection are re-established, /health/ready answers 200 again, and a run
 * triggered afterwards is delivered live over Socket.IO (worker NOTIFY → web LISTEN → socket).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { StageLogChunkEvent } from '../../lib/events/server-events';
import { createPool } from '../../lib/db/client';
import { followRun } from '../../lib/realtime/client';
import { fetchStatus, startBuildIt, stopWith, waitForReady } from '../support/buildit-process';
import { freeLoopbackPort } from '../../lib/system';
import { apiClient, Cleanup, restartableDatabase, waitFor } from './resilience-support';

const TOKEN = `bk_${'web-pg-restart'.padEnd(43, 'x')}`;
const PIPELINE = `pipeline "after-restart" { on "manual"; }
stage "hello" {
    executor "local"
    run "sleep 1; echo delivered after the restart"
}
`;

test('PostgreSQL restarted under a running BuildIt: web and worker stay up, API and live events work again', async (t) => {
  const cleanup = new Cleanup(t);
  const { server, url } = await restartableDatabase(cleanup, 'web_pg_restart_test');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'buildit-web-pg-restart-'));
  cleanup.defer(() => rmSync(dataDir, { recursive: true, force: true }));
  const started = startBuildIt(
    { ...process.env, DATABASE_URL: url, BUILDIT_DATA_DIR: dataDir, BUILDIT_BOOTSTRAP_TOKEN: TOKEN, BUILDIT_WORKER_EXECUTORS: 'docker,local' },
    await freeLoopbackPort(),
  );
  cleanup.defer(async () => {
    if (started.process.exitCode === null) await stopWith(started, 'SIGTERM');
  });
  const output = () => started.output.slice(-80).join('\n');
  await waitForReady(started);
  const base = `http://127.0.0.1:${started.port}`;
  const api = apiClient(base, TOKEN);
  const tenants = await api<{ items: Array<{ id: string }> }>('GET', '/api/v1/tenants');
  const pipeline = await api<{ id: string }>('POST', `/api/v1/tenants/${tenants.json.items[0]!.id}/pipelines`, { name: 'After restart', config: PIPELINE });
  assert.equal(pipeline.status, 201, JSON.stringify(pipeline.json));

  await server.restart({ downMs: 2_000, mode: 'immediate' });
  await waitFor('/health/ready to answer 200 again', async () => (await fetchStatus(`${base}/health/ready`)) === 200, { context: output });
  // The adapter re-LISTENs on its own 1 to 3 s after losing its connection; events before that are missed.
  const pool = createPool(url, { max: 1 });
  cleanup.defer(() => pool.end());
  await waitFor(
    'the Socket.IO adapter to LISTEN again',
    async () => {
      const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'LISTEN "socket.io#%'`);
      return rows[0]!.n > 0;
    },
    { context: output },
  );
  assert.equal(started.process.exitCode, null, `BuildIt is still running:\n${output()}`);
  assert.ok(!started.output.some((line) => /uncaughtException|exited \(/.test(line)), `no process crashed or exited:\n${output()}`);

  const triggered = await api<{ id: string }>('POST', `/api/v1/pipelines/${pipeline.json.id}/runs`, { event: 'manual' });
  assert.equal(triggered.status, 201, JSON.stringify(triggered.json));
  // The stage sleeps first, so the subscription is in place before it prints; and no idle re-sync (it would
  // read the outcome from the database): the output and the end of the run must arrive as live events.
  const chunks: StageLogChunkEvent[] = [];
  const follow = followRun({ url: base, token: TOKEN, runId: triggered.json.id, idleResyncMs: 600_000, onChunk: (chunk) => chunks.push(chunk) });
  const snapshot = await Promise.race([
    follow.done,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no live events within 90 s:\n${output()}`)), 90_000).unref()),
  ]);
  assert.equal(snapshot.status, 'succeeded', output());
  assert.deepEqual(
    chunks.flatMap((chunk) => chunk.lines.map((l) => l.line)),
    ['delivered after the restart'],
  );
});
