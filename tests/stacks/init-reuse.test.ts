/**
 * A stack runs `terraform init` once and its later plans reuse it (lib/stacks/terraform/init-cache.ts), with
 * the real terraform: the second plan of the same configuration starts no init; a configuration that adds a
 * module no longer fits the reused init, so terraform asks for one and the run inits and plans again, and
 * the plan is what a fresh init would give.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { test } from 'node:test';
import { api, packConfiguration, runLogText, useStackWorld, waitForRun } from './support';
import { terraformDir, terraformOrSkip } from './terraform';

process.env.BUILDIT_SECRET_KEY = randomBytes(32).toString('base64');

const world = useStackWorld();

const admin = () => world.world.adminA.token;
const INIT = '$ terraform init';
const REUSED = "terraform init: reusing this stack's last init";

async function plan(stackId: string, configuration: string) {
  const created = await api('POST', '/api/v1/stacks/{stackId}/runs', admin(), { stackId }, { kind: 'plan', configuration });
  assert.equal(created.status, 201, created.text);
  const runId = (created.body as { id: string }).id;
  const run = (await waitForRun(admin(), runId, ['planned', 'no_changes', 'errored'])) as {
    status: string;
    reason: string | null;
    plan: { resources: Array<{ address: string }> };
  };
  assert.equal(run.status, 'planned', run.reason ?? '');
  return { run, log: await runLogText(admin(), runId) };
}

test('the second plan reuses the first one’s init; a module added later makes the run init again', async (t) => {
  if (!terraformOrSkip(t)) return;
  const created = await api('POST', '/api/v1/tenants/{tenantId}/stacks', admin(), { tenantId: world.world.tenantA }, { name: 'Reuse' });
  assert.equal(created.status, 201, created.text);
  const stackId = (created.body as { id: string }).id;
  const first = terraformDir({ 'main.tf': 'resource "terraform_data" "a" {\n  input = "one"\n}\n' });

  const cold = await plan(stackId, packConfiguration(first.dir));
  assert.ok(cold.log.includes(INIT), cold.log);
  assert.ok(!cold.log.includes(REUSED));

  const warm = await plan(stackId, packConfiguration(first.dir));
  assert.ok(warm.log.includes(REUSED), warm.log);
  assert.ok(!warm.log.includes(INIT), 'no terraform init when the last one is reused');

  // A module call: the reused init has no module manifest entry for it, so terraform asks for init.
  writeFileSync(path.join(first.dir, 'module.tf'), 'module "child" {\n  source = "./child"\n}\n');
  mkdirSync(path.join(first.dir, 'child'));
  writeFileSync(path.join(first.dir, 'child', 'main.tf'), 'resource "terraform_data" "b" {\n  input = "two"\n}\n');
  const changed = await plan(stackId, packConfiguration(first.dir));
  assert.ok(changed.log.includes(REUSED), changed.log);
  assert.ok(changed.log.includes('the reused init does not fit this configuration'), changed.log);
  assert.ok(changed.log.includes(INIT), changed.log);
  assert.deepEqual(changed.run.plan.resources.map((r) => r.address).sort(), ['module.child.terraform_data.b', 'terraform_data.a']);

  // That init is the one kept now.
  const again = await plan(stackId, packConfiguration(first.dir));
  assert.ok(again.log.includes(REUSED), again.log);
  assert.ok(!again.log.includes(INIT));
  assert.deepEqual(again.run.plan.resources.map((r) => r.address).sort(), ['module.child.terraform_data.b', 'terraform_data.a']);
});
