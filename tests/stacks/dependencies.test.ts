/**
 * A stack that takes another stack's output as a variable: its run reads the upstream's current output,
 * and applying the upstream queues a plan of it (event `upstream`), which then shows the new value.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { api, packConfiguration, useStackWorld, waitForRun } from './support';
import { stackConfig, terraformDir, terraformOrSkip } from './terraform';

process.env.BUILDIT_SECRET_KEY = randomBytes(32).toString('base64');

const world = useStackWorld();

async function createStack(name: string): Promise<string> {
  const created = await api('POST', '/api/v1/tenants/{tenantId}/stacks', world.world.adminA.token, { tenantId: world.world.tenantA }, { name });
  assert.equal(created.status, 201, created.text);
  return (created.body as { id: string }).id;
}

async function applyRun(stackId: string, configuration?: string): Promise<string> {
  const token = world.world.adminA.token;
  const run = (await api('POST', '/api/v1/stacks/{stackId}/runs', token, { stackId }, { kind: 'apply', ...(configuration ? { configuration } : {}) })).body as {
    id: string;
  };
  await waitForRun(token, run.id, ['planned']);
  await api('POST', '/api/v1/stack-runs/{stackRunId}/approve', token, { stackRunId: run.id });
  const applied = await waitForRun(token, run.id, ['applied', 'errored']);
  assert.equal(applied.status, 'applied', String(applied.reason));
  return run.id;
}

test('applying an upstream stack queues a plan of the stack that takes its output, with the new value', async (t) => {
  if (!terraformOrSkip(t)) return;
  const token = world.world.adminA.token;
  const config = packConfiguration(terraformDir({ 'main.tf': stackConfig({ backend: false }) }).dir);
  const network = await createStack('network');
  const app = await createStack('app');
  await api('PUT', '/api/v1/stacks/{stackId}/variables/{name}', token, { stackId: network, name: 'label' }, { value: 'net-1' });
  await applyRun(network, config);
  const linked = await api(
    'PUT',
    '/api/v1/stacks/{stackId}/variables/{name}',
    token,
    { stackId: app, name: 'label' },
    { source: { stackId: network, output: 'label' } },
  );
  assert.equal(linked.status, 201, linked.text);
  await applyRun(app, config);
  assert.equal(
    ((await api('GET', '/api/v1/stacks/{stackId}', token, { stackId: app })).body as { outputs: { label: { value: string } } }).outputs.label.value,
    'net-1',
  );

  await api('PUT', '/api/v1/stacks/{stackId}/variables/{name}', token, { stackId: network, name: 'label' }, { value: 'net-2' });
  const upstreamRun = await applyRun(network);
  const downstream = await world.database.prisma.stackRun.findFirst({ where: { stackId: app, event: 'upstream' } });
  assert.ok(downstream, 'the apply of network queued a run of app');
  assert.equal(downstream.triggeredBy, `upstream:${upstreamRun}`);
  const planned = (await waitForRun(token, downstream.id, ['planned', 'errored'])) as unknown as {
    status: string;
    plan: { resources: Array<{ address: string; changes: Array<{ path: string; before: unknown; after: unknown }> }> };
  };
  assert.equal(planned.status, 'planned');
  const input = planned.plan.resources.find((r) => r.address === 'terraform_data.thing')?.changes.find((c) => c.path === 'input');
  assert.deepEqual([input?.before, input?.after], ['net-1', 'net-2']);

  const refused = await api('DELETE', '/api/v1/stacks/{stackId}', token, { stackId: network });
  assert.equal(refused.status, 409, 'a stack whose outputs another stack takes is not deleted');
});
