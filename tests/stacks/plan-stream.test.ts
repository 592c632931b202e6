/**
 * A run is `planned` from terraform's own plan stream (lib/stacks/plan-stream.ts), before `show -json` has
 * rendered the attribute-level plan, with the real terraform:
 * - the stream lists the same changed resources, actions, replace reasons and summary as `show -json`;
 * - through BuildIt, with a `show` slowed by a wrapper, the planned run lists its resources while its
 *   attributes are `pending`, an approval in that moment waits for the stored plan and is then applied;
 * - a run the worker left planned without its stored plan (a crash in that moment) ends errored when its job
 *   comes back, saying to plan again.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PlanStream } from '../../lib/stacks/plan-stream';
import { planView, type PlanView } from '../../lib/stacks/plan-view';
import { enqueueStackRunJob } from '../../lib/stacks/runs';
import { api, createStack, packConfiguration, useStackWorld, waitForRun } from './support';
import { slowShowTerraform, terraform, terraformDir, terraformOrSkip } from './terraform';

process.env.BUILDIT_SECRET_KEY = randomBytes(32).toString('base64');

// `show` waits before it runs: the moment between `planned` and the stored plan, long enough to act in.
const world = useStackWorld({ env: { ...process.env, BUILDIT_TERRAFORM_BINS: `slow-show=${slowShowTerraform(3)}` } });
const admin = () => world.world.adminA.token;

const listed = (view: PlanView) => ({
  summary: view.summary,
  resources: view.resources.map(({ address, type, name, action, reason }) => ({ address, type, name, action, reason })),
});

test("terraform's plan stream lists what show -json shows: resources, actions, replace reasons, summary", async (t) => {
  const binary = terraformOrSkip(t);
  if (!binary) return;
  const { dir, env } = terraformDir({
    'main.tf': `resource "terraform_data" "updated" { input = "1" }
resource "terraform_data" "replaced" { triggers_replace = "1" }
resource "terraform_data" "removed" { input = "x" }
resource "terraform_data" "tainted" { input = "t" }
`,
  });
  const run = async (args: string[]) => {
    const result = await terraform(binary, dir, args, env);
    assert.ok([0, 2].includes(result.code), `terraform ${args[0]}: ${result.stderr}`);
    return result;
  };
  await run(['init', '-input=false']);
  await run(['apply', '-auto-approve', '-input=false']);
  await run(['taint', 'terraform_data.tainted']);
  writeFileSync(
    path.join(dir, 'main.tf'),
    `resource "terraform_data" "updated" { input = "2" }
resource "terraform_data" "replaced" { triggers_replace = "2" }
resource "terraform_data" "tainted" { input = "t" }
resource "terraform_data" "created" { input = "c" }
resource "terraform_data" "triggered" {
  input = "e"
  lifecycle { replace_triggered_by = [terraform_data.updated] }
}
`,
  );
  const plan = await run(['plan', '-input=false', '-json', '-detailed-exitcode', '-out=plan', '-replace=terraform_data.created']);
  const stream = new PlanStream();
  plan.stdout.split('\n').forEach(stream.take);
  const shown = planView(JSON.parse((await run(['show', '-json', 'plan'])).stdout) as unknown);

  const fromStream = stream.view();
  assert.equal(fromStream.attributes, 'pending');
  assert.deepEqual(fromStream.outputs, []);
  assert.deepEqual(listed(fromStream), listed(shown));
  assert.deepEqual(shown.summary, { add: 2, change: 1, destroy: 1, replace: 2 });
  assert.deepEqual(
    Object.fromEntries(shown.resources.map((r) => [r.address, r.reason])),
    {
      'terraform_data.replaced': 'replace_because_cannot_update',
      'terraform_data.tainted': 'replace_because_tainted',
      'terraform_data.removed': 'delete_because_no_resource_config',
      'terraform_data.created': null,
      'terraform_data.triggered': 'replace_by_triggers',
      'terraform_data.updated': null,
    },
    'the reasons the stream spells otherwise (tainted, replace_triggered_by, cannot_update) come out as show -json spells them',
  );
});

test('a run is planned with its resources listed before its plan is stored; an approval in that moment waits for it', async (t) => {
  if (!terraformOrSkip(t)) return;
  const stack = await createStack(admin(), world.world.tenantA, { name: 'Slow show', terraformBinary: 'slow-show' });
  const configuration = packConfiguration(terraformDir({ 'main.tf': 'resource "terraform_data" "a" {\n  input = "one"\n}\n' }).dir);
  const created = await api('POST', '/api/v1/stacks/{stackId}/runs', admin(), { stackId: stack.id }, { kind: 'apply', configuration });
  assert.equal(created.status, 201, created.text);
  const runId = (created.body as { id: string }).id;

  type Run = { status: string; reason: string | null; plan: PlanView | null };
  const read = async () => (await api('GET', '/api/v1/stack-runs/{stackRunId}', admin(), { stackRunId: runId })).body as Run;
  let run = await read();
  for (const deadline = Date.now() + 60_000; run.status === 'queued' || run.status === 'planning'; run = await read()) {
    assert.ok(Date.now() < deadline, `the run is still ${run.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(run.status, 'planned', run.reason ?? '');
  assert.equal(run.plan?.attributes, 'pending', 'planned while show -json still runs');
  assert.deepEqual(run.plan?.summary, { add: 1, change: 0, destroy: 0, replace: 0 });
  assert.deepEqual(
    run.plan?.resources.map((r) => [r.address, r.action, r.changes.length]),
    [['terraform_data.a', 'create', 0]],
  );
  assert.equal((await world.database.prisma.stackRun.findUniqueOrThrow({ where: { id: runId } })).planKeyId, null, 'nothing to apply is stored yet');

  const approved = await api('POST', '/api/v1/stack-runs/{stackRunId}/approve', admin(), { stackRunId: runId });
  assert.equal(approved.status, 200, approved.text);
  const stored = (approved.body as Run).plan;
  assert.equal(stored?.attributes, 'stored', 'the approval answered once the plan was stored');
  assert.deepEqual(
    stored?.resources[0]?.changes.find((change) => change.path === 'input'),
    { path: 'input', before: null, after: 'one', sensitive: false, unknownAfter: false, forcesReplacement: false },
  );
  const applied = await waitForRun(admin(), runId, ['applied', 'errored']);
  assert.equal(applied.status, 'applied', String(applied.reason));
});

test('a run left planned without its stored plan (the worker stopped in that moment) ends errored when its job comes back', async () => {
  const { prisma } = world.database;
  const stack = await createStack(admin(), world.world.tenantA, { name: 'Stopped between' });
  const view = new PlanStream().view();
  const run = await prisma.stackRun.create({
    data: {
      stackId: stack.id,
      number: 1,
      kind: 'apply',
      event: 'api',
      status: 'planned',
      planStateVersion: 0,
      planView: JSON.parse(JSON.stringify(view)) as object,
    },
  });
  await enqueueStackRunJob(prisma, run.id, 'plan');
  const ended = await waitForRun(admin(), run.id, ['errored'], 30_000);
  assert.match(String(ended.reason), /the worker stopped before it stored the plan .*: queue a new plan/);
});
