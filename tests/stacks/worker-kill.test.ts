/**
 * A worker killed (SIGKILL, with its terraform) in the middle of an apply: the run ends errored, not stuck,
 * once another worker takes the job over after its lease; the state lock stays, its holder (the run) is
 * shown, and force-unlock through the API releases it, audited. The victim is the real worker process
 * (worker/main.ts) against the test database.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { JobRunner } from '../../lib/queue/runner';
import { useApiWorld } from '../api/helpers';
import { WORKER_LOST_DURING_APPLY } from '../../worker/jobs/stack-run/apply';
import { startTestRouter, type TestRouter } from '../support/api-router';
import { api, packConfiguration, startStackWorker, waitForRun } from './support';
import { stackConfig, terraformDir, terraformOrSkip } from './terraform';

process.env.BUILDIT_SECRET_KEY = randomBytes(32).toString('base64');

const ROOT = path.resolve(import.meta.dirname, '../..');
const LEASE_MS = 3_000;

let router: TestRouter;
let victim: ChildProcess | undefined;
let rescuer: JobRunner | undefined;

const world = useApiWorld(async () => {
  router = await startTestRouter();
});
after(async () => {
  if (victim?.pid && victim.exitCode === null && victim.signalCode === null) process.kill(-victim.pid, 'SIGKILL');
  await rescuer?.stop({ graceMs: 1_000 });
  await router?.stop();
});

function startWorkerProcess(databaseUrl: string): ChildProcess {
  // Its own process group, so the kill takes its terraform with it as a machine crash would.
  return spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
    cwd: ROOT,
    detached: true,
    stdio: 'ignore',
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      BUILDIT_PUBLIC_URL: router.url,
      BUILDIT_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'buildit-victim-')),
      BUILDIT_WORKER_KINDS: 'stack_run',
      BUILDIT_WORKER_EXECUTORS: 'docker,local',
      BUILDIT_WORKER_LEASE_MS: String(LEASE_MS),
      BUILDIT_SCHEDULER: 'off',
    },
  });
}

test('worker killed during apply: the run ends errored, the lock holder is shown, force-unlock releases it', async (t) => {
  if (!terraformOrSkip(t)) return;
  const token = world.world.adminA.token;
  const created = await api('POST', '/api/v1/tenants/{tenantId}/stacks', token, { tenantId: world.world.tenantA }, { name: 'Crashy' });
  const stackId = (created.body as { id: string }).id;
  const configuration = packConfiguration(terraformDir({ 'main.tf': stackConfig({ backend: false, sleepSeconds: 120 }) }).dir);
  const run = (await api('POST', '/api/v1/stacks/{stackId}/runs', token, { stackId }, { kind: 'apply', configuration })).body as { id: string };

  victim = startWorkerProcess(world.database.url);
  await waitForRun(token, run.id, ['planned'], 90_000);
  assert.equal((await api('POST', '/api/v1/stack-runs/{stackRunId}/approve', token, { stackRunId: run.id })).status, 200);
  await waitForRun(token, run.id, ['applying'], 60_000);
  const { prisma } = world.database;
  for (let i = 0; i < 300 && (await prisma.stateLock.count({ where: { stackId } })) === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await prisma.stateLock.count({ where: { stackId } }), 1, 'terraform holds the lock while it applies');

  process.kill(-victim.pid!, 'SIGKILL');
  await new Promise((resolve) => victim!.once('exit', resolve));

  rescuer = startStackWorker(world.database, router.url, { leaseMs: LEASE_MS });
  await rescuer.start();
  const ended = (await waitForRun(token, run.id, ['errored', 'applied', 'cancelled'], 60_000)) as unknown as { status: string; reason: string };
  assert.equal(ended.status, 'errored');
  assert.equal(ended.reason, WORKER_LOST_DURING_APPLY);

  const stack = (await api('GET', '/api/v1/stacks/{stackId}', token, { stackId })).body as {
    lock: { heldBy: { kind: string; runId: string }; operation: string } | null;
  };
  assert.deepEqual(stack.lock?.heldBy.kind, 'run');
  assert.equal(stack.lock?.heldBy.runId, run.id);
  assert.equal(stack.lock?.operation, 'OperationTypeApply');

  assert.equal((await api('DELETE', '/api/v1/stacks/{stackId}/lock', world.world.memberA.token, { stackId })).status, 403, 'members cannot force-unlock');
  const unlocked = await api('DELETE', '/api/v1/stacks/{stackId}/lock', token, { stackId });
  assert.equal(unlocked.status, 200, unlocked.text);
  assert.ok((unlocked.body as { unlocked: { id: string } | null }).unlocked);
  assert.equal(await prisma.stateLock.count({ where: { stackId } }), 0);
  assert.equal(await prisma.auditLog.count({ where: { action: 'stack.force_unlock', targetId: stackId, actorUserId: world.world.adminA.userId } }), 1);
});
