/**
 * Server mode end to end: the real start script (web + worker as child processes) on a test database,
 * the real Docker engine when there is one (local executor otherwise): a pipeline created and triggered
 * through the REST API runs on the worker; its logs are readable from the API and through Socket.IO.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { followRun } from '../../lib/realtime/client';
import type { StageLogChunkEvent } from '../../lib/events/server-events';
import { createTestDatabase } from '../support/db';
import { freeLoopbackPort } from '../../lib/system';
import { startBuildIt, stopWith, waitForReady } from '../support/buildit-process';
import { dockerOrSkip, TEST_IMAGE } from '../support/engines';

const TOKEN = `bk_${'server-mode-e2e'.padEnd(43, 'x')}`;
const PIPELINE = `pipeline "e2e" {
    on "manual"
}
stage "hello" {
    image "${TEST_IMAGE}"
    run "echo hello from BuildIt; echo second line >&2"
}
stage "after" needs="hello" {
    image "${TEST_IMAGE}"
    run "echo done after hello"
}
`;

async function api<T>(base: string, method: string, route: string, body?: unknown): Promise<{ status: number; json: T }> {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as T };
}

interface RunView {
  id: string;
  status: string;
  stages: Array<{ id: string; stageId: string; status: string; executor: string | null }>;
}

test('trigger through the API → the worker runs it → logs from the API and from Socket.IO agree', async (t) => {
  // Image stages run in containers on the server (never on the worker's host), so this needs the engine.
  if (!(await dockerOrSkip(t))) return;
  const db = await createTestDatabase();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'buildit-server-mode-'));
  const started = startBuildIt({ ...process.env, DATABASE_URL: db.url, BUILDIT_DATA_DIR: dataDir, BUILDIT_BOOTSTRAP_TOKEN: TOKEN }, await freeLoopbackPort());
  t.after(async () => {
    if (started.process.exitCode === null) await stopWith(started, 'SIGTERM');
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  await waitForReady(started);
  const base = `http://127.0.0.1:${started.port}`;

  const tenants = await api<{ items: Array<{ id: string }> }>(base, 'GET', '/api/v1/tenants');
  assert.equal(tenants.status, 200);
  const tenantId = tenants.json.items[0]!.id;
  const pipeline = await api<{ id: string }>(base, 'POST', `/api/v1/tenants/${tenantId}/pipelines`, { name: 'E2E', config: PIPELINE });
  assert.equal(pipeline.status, 201, JSON.stringify(pipeline.json));
  const triggered = await api<{ id: string }>(base, 'POST', `/api/v1/pipelines/${pipeline.json.id}/runs`, { event: 'manual' });
  assert.equal(triggered.status, 201, JSON.stringify(triggered.json));
  const runId = triggered.json.id;

  // Follow live through Socket.IO (catch-up from the database, then live) until the run finishes.
  const chunks: StageLogChunkEvent[] = [];
  const follow = followRun({ url: base, token: TOKEN, runId, onChunk: (chunk) => chunks.push(chunk) });
  const snapshot = await follow.done;
  assert.equal(snapshot.status, 'succeeded', started.output.join('\n'));

  const run = await api<RunView>(base, 'GET', `/api/v1/runs/${runId}`);
  assert.equal(run.json.status, 'succeeded');
  assert.deepEqual(
    run.json.stages.map((stage) => [stage.stageId, stage.status]),
    [
      ['hello', 'succeeded'],
      ['after', 'succeeded'],
    ],
  );
  for (const stage of run.json.stages) assert.equal(stage.executor, 'docker');

  for (const stage of run.json.stages) {
    const logs = await fetch(`${base}/api/v1/runs/${runId}/stages/${stage.id}/logs?format=text`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(logs.status, 200);
    const fromApi = (await logs.text()).split('\n').filter(Boolean);
    const fromSocket = chunks.filter((chunk) => chunk.stageRunId === stage.id).flatMap((chunk) => chunk.lines.map((line) => line.line));
    assert.deepEqual(fromSocket, fromApi, `stage ${stage.stageId}: the same lines, once each, in the same order`);
    const expected = stage.stageId === 'hello' ? ['hello from BuildIt', 'second line'] : ['done after hello'];
    for (const line of expected) assert.ok(fromApi.includes(line), `${stage.stageId} log has "${line}":\n${fromApi.join('\n')}`);
  }
});
