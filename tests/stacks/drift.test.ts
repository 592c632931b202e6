/**
 * Drift: a change made outside BuildIt (a `terraform apply` from a laptop through the state backend) is
 * found by the scheduled drift check: the elected scheduler's tick enqueues the stack's `stack_drift` job,
 * the worker queues and runs a `drift` plan (`-detailed-exitcode`), and the stack is marked drifted, with an
 * audit entry and the drift plan viewable. A clean check clears the mark.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Scheduler } from '../../lib/schedule/scheduler';
import { api, packConfiguration, useStackWorld, waitForRun } from './support';
import { stackConfig, terraform, terraformDir, terraformOrSkip } from './terraform';

process.env.BUILDIT_SECRET_KEY = randomBytes(32).toString('base64');

const world = useStackWorld();

async function driftRunAfterTick(stackId: string, minutesAhead: number) {
  const { prisma, pool } = world.database;
  const before = await prisma.stackRun.count({ where: { stackId, kind: 'drift' } });
  // A scheduler of this test's own (its own lock), ticking at a clock a few minutes ahead: the slot is due.
  const scheduler = new Scheduler({ pool, prisma, now: () => new Date(Date.now() + minutesAhead * 60_000), lock: [0x7465, 0x7374 + minutesAhead] });
  await scheduler.tick();
  for (let i = 0; i < 600; i++) {
    const runs = await prisma.stackRun.findMany({ where: { stackId, kind: 'drift' }, orderBy: { number: 'desc' } });
    if (runs.length > before) return runs[0]!.id;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the tick queued no drift run');
}

test('a change made outside BuildIt is found by the scheduled drift check: the stack is marked drifted', async (t) => {
  const binary = terraformOrSkip(t);
  if (!binary) return;
  const token = world.world.adminA.token;
  const created = await api(
    'POST',
    '/api/v1/tenants/{tenantId}/stacks',
    token,
    { tenantId: world.world.tenantA },
    { name: 'Drifty', driftSchedule: '* * * * *' },
  );
  assert.equal(created.status, 201, created.text);
  const stackId = (created.body as { id: string }).id;
  const configuration = packConfiguration(terraformDir({ 'main.tf': stackConfig({ backend: false }) }).dir);
  const run = (await api('POST', '/api/v1/stacks/{stackId}/runs', token, { stackId }, { kind: 'apply', configuration })).body as { id: string };
  await waitForRun(token, run.id, ['planned']);
  await api('POST', '/api/v1/stack-runs/{stackRunId}/approve', token, { stackRunId: run.id });
  await waitForRun(token, run.id, ['applied']);

  const clean = await driftRunAfterTick(stackId, 2);
  assert.equal((await waitForRun(token, clean, ['no_changes', 'planned', 'errored'])).status, 'no_changes');
  assert.equal(((await api('GET', '/api/v1/stacks/{stackId}', token, { stackId })).body as { drifted: boolean }).drifted, false);

  // Outside BuildIt: someone applies another label from a laptop.
  const { dir, env } = terraformDir({ 'main.tf': stackConfig() });
  const url = `${world.router.url}/api/v1/stacks/${stackId}/state`;
  const tfEnv = { ...env, TF_HTTP_ADDRESS: url, TF_HTTP_LOCK_ADDRESS: url, TF_HTTP_UNLOCK_ADDRESS: url, TF_HTTP_USERNAME: 'me', TF_HTTP_PASSWORD: token };
  assert.equal((await terraform(binary, dir, ['init', '-input=false'], tfEnv)).code, 0);
  assert.equal((await terraform(binary, dir, ['apply', '-auto-approve', '-input=false', '-var', 'label=by-hand'], tfEnv)).code, 0);

  const drift = await driftRunAfterTick(stackId, 4);
  const checked = (await waitForRun(token, drift, ['planned', 'no_changes', 'errored'])) as unknown as {
    status: string;
    plan: { resources: Array<{ address: string; changes: Array<{ path: string; before: unknown; after: unknown }> }> };
  };
  assert.equal(checked.status, 'planned');
  const input = checked.plan.resources.find((r) => r.address === 'terraform_data.thing')?.changes.find((c) => c.path === 'input');
  assert.deepEqual([input?.before, input?.after], ['by-hand', 'one'], 'the drift plan shows what changed');
  const stack = (await api('GET', '/api/v1/stacks/{stackId}', token, { stackId })).body as { drifted: boolean; driftCheckedAt: string | null };
  assert.equal(stack.drifted, true);
  assert.ok(stack.driftCheckedAt);
  const audit = await world.database.prisma.auditLog.findFirst({ where: { action: 'stack.drift_detected', targetId: stackId } });
  assert.equal((audit?.details as { runId?: string }).runId, drift);
  assert.equal((await api('POST', '/api/v1/stack-runs/{stackRunId}/approve', token, { stackRunId: drift })).status, 409, 'a drift plan is never applied');
});
