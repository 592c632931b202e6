/**
 * Stack runs end to end with the real terraform: an uploaded configuration is planned by the worker's
 * `stack_run` job, approved through the API, applied exactly as planned; outputs land in the run, the stack
 * and the linked environment; every apply adds one state version and a rollback restores earlier outputs;
 * a plan older than the state cannot be approved; a cancel stops terraform and releases its lock. A sensitive
 * variable and a sensitive output appear in no API answer, no log and no database dump.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import type { JobRunner } from '../../lib/queue/runner';
import { useApiWorld } from '../api/helpers';
import { dumpDatabase } from '../secrets/support';
import { startTestRouter, type TestRouter } from '../support/api-router';
import { answers, api, packConfiguration, startStackWorker, waitForRun } from './support';
import { stackConfig, terraform, terraformDir, terraformOrSkip } from './terraform';

process.env.BUILDIT_SECRET_KEY = randomBytes(32).toString('base64');

const SECRET = `s3cret-${randomBytes(8).toString('hex')}`;

let router: TestRouter;
let worker: JobRunner;
let stackId = '';
let configuration = '';

const world = useApiWorld(async ({ database }) => {
  router = await startTestRouter();
  worker = startStackWorker(database, router.url, { cancelGraceMs: 3_000 });
  await worker.start();
});
after(async () => {
  await worker?.stop({ graceMs: 1_000 });
  await router?.stop();
});

const admin = () => world.world.adminA.token;

async function queueRun(kind: string, config: string | undefined = configuration) {
  const created = await api('POST', '/api/v1/stacks/{stackId}/runs', admin(), { stackId }, { kind, ...(config ? { configuration: config } : {}) });
  assert.equal(created.status, 201, created.text);
  return created.body as { id: string; status: string };
}

async function outputsOfStack() {
  return ((await api('GET', '/api/v1/stacks/{stackId}', admin(), { stackId })).body as { outputs: Record<string, { sensitive: boolean; value?: unknown }> })
    .outputs;
}

test('plan → approve → apply: the plan is reviewed, applied as planned, outputs reach the run, the stack and the environment', async (t) => {
  if (!terraformOrSkip(t)) return;
  const created = await api(
    'POST',
    '/api/v1/tenants/{tenantId}/stacks',
    admin(),
    { tenantId: world.world.tenantA },
    { name: 'Network', environment: 'staging' },
  );
  assert.equal(created.status, 201, created.text);
  stackId = (created.body as { id: string }).id;
  assert.equal(
    (await api('PUT', '/api/v1/stacks/{stackId}/variables/{name}', admin(), { stackId, name: 'password' }, { value: SECRET, sensitive: true })).status,
    201,
  );
  assert.equal((await api('PUT', '/api/v1/stacks/{stackId}/variables/{name}', admin(), { stackId, name: 'label' }, { value: 'one' })).status, 201);
  const variables = (await api('GET', '/api/v1/stacks/{stackId}/variables', admin(), { stackId })).body as {
    items: Array<{ name: string; value: string | null }>;
  };
  assert.deepEqual(
    variables.items.map((v) => [v.name, v.value]),
    [
      ['label', 'one'],
      ['password', null],
    ],
  );

  // The configuration names no backend: BuildIt's override adds its own.
  configuration = packConfiguration(terraformDir({ 'main.tf': stackConfig({ backend: false }) }).dir);
  const run = await queueRun('apply');
  assert.equal(run.status, 'queued');
  const planned = (await waitForRun(admin(), run.id, ['planned', 'errored'])) as unknown as {
    status: string;
    reason: string | null;
    changeSummary: unknown;
    plan: {
      resources: Array<{ address: string; action: string; changes: Array<{ path: string; after: unknown; sensitive: boolean }> }>;
      outputs: Array<{ name: string; sensitive: boolean }>;
    };
  };
  assert.equal(planned.status, 'planned', planned.reason ?? '');
  assert.deepEqual(planned.changeSummary, { add: 2, change: 0, destroy: 0, replace: 0 });
  const thing = planned.plan.resources.find((r) => r.address === 'terraform_data.thing');
  assert.equal(thing?.action, 'create');
  assert.deepEqual(
    thing?.changes.find((c) => c.path === 'input'),
    { path: 'input', before: null, after: 'one', sensitive: false, unknownAfter: false, forcesReplacement: false },
  );
  const secretInput = planned.plan.resources.find((r) => r.address === 'terraform_data.secret')?.changes.find((c) => c.path === 'input');
  assert.equal(secretInput?.sensitive, true);
  assert.equal(secretInput?.after, null, 'a sensitive attribute is masked');
  assert.equal(planned.plan.outputs.find((o) => o.name === 'password')?.sensitive, true);

  // Viewers and members may not approve.
  assert.equal((await api('POST', '/api/v1/stack-runs/{stackRunId}/approve', world.world.memberA.token, { stackRunId: run.id })).status, 403);
  const approved = await api('POST', '/api/v1/stack-runs/{stackRunId}/approve', admin(), { stackRunId: run.id });
  assert.equal(approved.status, 200, approved.text);
  const applied = (await waitForRun(admin(), run.id, ['applied', 'errored'])) as unknown as {
    status: string;
    reason: string | null;
    outputs: unknown;
    approvedBy: { id: string };
  };
  assert.equal(applied.status, 'applied', applied.reason ?? '');
  assert.equal(applied.approvedBy.id, world.world.adminA.userId);
  assert.deepEqual(applied.outputs, { label: { sensitive: false, value: 'one' }, password: { sensitive: true } });
  assert.deepEqual(await outputsOfStack(), { label: { sensitive: false, value: 'one' }, password: { sensitive: true } });

  const environments = (await api('GET', '/api/v1/tenants/{tenantId}/environments', admin(), { tenantId: world.world.tenantA })).body as {
    items: Array<{ id: string; name: string; outputs: unknown; stack: { id: string } }>;
  };
  const staging = environments.items.find((e) => e.name === 'staging');
  assert.equal(staging?.stack.id, stackId);
  assert.deepEqual(staging?.outputs, { label: { sensitive: false, value: 'one' }, password: { sensitive: true } });
  assert.equal((await api('GET', '/api/v1/environments/{environmentId}', admin(), { environmentId: staging!.id })).status, 200);

  const audit = await world.database.prisma.auditLog.findFirst({ where: { action: 'stack.approve', targetId: run.id } });
  assert.equal(audit?.actorUserId, world.world.adminA.userId);

  const logs = (await api('GET', '/api/v1/stack-runs/{stackRunId}/logs', admin(), { stackRunId: run.id })).body as {
    items: Array<{ text: string }>;
    finished: boolean;
  };
  const text = logs.items.map((c) => c.text).join('');
  assert.match(text, /terraform_data\.thing: Plan to create/);
  assert.match(text, /Apply complete! Resources: 2 added/);
  assert.ok(logs.finished);
  assert.equal(await world.database.prisma.stateVersion.count({ where: { stackId } }), 1);
});

test('every apply adds one state version; a rollback restores the earlier outputs as a new version', async (t) => {
  if (!terraformOrSkip(t) || !stackId) return;
  await api('PUT', '/api/v1/stacks/{stackId}/variables/{name}', admin(), { stackId, name: 'label' }, { value: 'two' });
  const run = await queueRun('apply');
  await waitForRun(admin(), run.id, ['planned']);
  await api('POST', '/api/v1/stack-runs/{stackRunId}/approve', admin(), { stackRunId: run.id });
  await waitForRun(admin(), run.id, ['applied']);
  assert.equal((await outputsOfStack()).label?.value, 'two');

  const versions = (await api('GET', '/api/v1/stacks/{stackId}/state-versions', admin(), { stackId })).body as {
    items: Array<{ id: string; number: number; runId: string | null }>;
  };
  assert.deepEqual(
    versions.items.map((v) => v.number),
    [2, 1],
  );
  assert.equal(versions.items[0]!.runId, run.id);
  const first = versions.items[1]!;
  const shown = (await api('GET', '/api/v1/state-versions/{stateVersionId}', admin(), { stateVersionId: first.id })).body as {
    outputs: unknown;
    resources: Array<{ address: string }>;
  };
  assert.deepEqual(shown.outputs, { label: { sensitive: false, value: 'one' }, password: { sensitive: true } });
  assert.deepEqual(shown.resources.map((r) => r.address).sort(), ['terraform_data.secret', 'terraform_data.thing']);

  assert.equal((await api('POST', '/api/v1/state-versions/{stateVersionId}/rollback', world.world.memberA.token, { stateVersionId: first.id })).status, 403);
  const rolledBack = await api('POST', '/api/v1/state-versions/{stateVersionId}/rollback', admin(), { stateVersionId: first.id });
  assert.equal(rolledBack.status, 201, rolledBack.text);
  assert.deepEqual((rolledBack.body as { number: number; rollbackOf: number }).number, 3);
  assert.equal((rolledBack.body as { rollbackOf: number }).rollbackOf, 1);
  assert.equal((await outputsOfStack()).label?.value, 'one', 'the rollback restored the earlier outputs');

  // The plan after the rollback sees the label at "one" again and plans to change it back to "two".
  const replan = await queueRun('plan');
  const planned = (await waitForRun(admin(), replan.id, ['planned'])) as unknown as { changeSummary: { replace: number; change: number } };
  assert.equal(planned.changeSummary.change + planned.changeSummary.replace, 1);
  assert.equal(
    (await api('POST', '/api/v1/stack-runs/{stackRunId}/approve', admin(), { stackRunId: replan.id })).status,
    409,
    'a plan-only run is never applied',
  );
});

test('a plan older than the state cannot be approved: it must be made again', async (t) => {
  const binary = terraformOrSkip(t);
  if (!binary || !stackId) return;
  const run = await queueRun('apply');
  await waitForRun(admin(), run.id, ['planned']);
  // Someone applies from a laptop meanwhile.
  const { dir, env } = terraformDir({ 'main.tf': stackConfig() });
  const url = `${router.url}/api/v1/stacks/${stackId}/state`;
  const tfEnv = { ...env, TF_HTTP_ADDRESS: url, TF_HTTP_LOCK_ADDRESS: url, TF_HTTP_UNLOCK_ADDRESS: url, TF_HTTP_USERNAME: 'me', TF_HTTP_PASSWORD: admin() };
  assert.equal((await terraform(binary, dir, ['init', '-input=false'], tfEnv)).code, 0);
  const laptop = await terraform(binary, dir, ['apply', '-auto-approve', '-input=false', '-var', 'label=laptop', '-var', `password=${SECRET}`], tfEnv);
  assert.equal(laptop.code, 0, laptop.stderr);
  const shown = (await api('GET', '/api/v1/stack-runs/{stackRunId}', admin(), { stackRunId: run.id })).body as { stale: boolean };
  assert.equal(shown.stale, true);
  const refused = await api('POST', '/api/v1/stack-runs/{stackRunId}/approve', admin(), { stackRunId: run.id });
  assert.equal(refused.status, 409);
  assert.equal((refused.body as { error: { code: string } }).error.code, 'stale_plan');
  assert.equal((await api('POST', '/api/v1/stack-runs/{stackRunId}/discard', admin(), { stackRunId: run.id })).status, 200);
});

test('cancel during an apply: terraform is stopped, the run ends cancelled and the lock is released', async (t) => {
  if (!terraformOrSkip(t) || !stackId) return;
  await api('PUT', '/api/v1/stacks/{stackId}/variables/{name}', admin(), { stackId, name: 'label' }, { value: 'slow' });
  const slow = packConfiguration(terraformDir({ 'main.tf': stackConfig({ backend: false, sleepSeconds: 60 }) }).dir);
  const run = await queueRun('apply', slow);
  await waitForRun(admin(), run.id, ['planned']);
  await api('POST', '/api/v1/stack-runs/{stackRunId}/approve', admin(), { stackRunId: run.id });
  await waitForRun(admin(), run.id, ['applying']);
  // Wait until terraform holds the lock, then cancel.
  for (let i = 0; i < 100 && (await world.database.prisma.stateLock.count({ where: { stackId } })) === 0; i++) await new Promise((r) => setTimeout(r, 100));
  const started = Date.now();
  assert.equal((await api('POST', '/api/v1/stack-runs/{stackRunId}/cancel', world.world.memberA.token, { stackRunId: run.id })).status, 200);
  const cancelled = await waitForRun(admin(), run.id, ['cancelled', 'errored'], 30_000);
  assert.equal(cancelled.status, 'cancelled');
  assert.ok(Date.now() - started < 20_000, 'stopped well before the 60 s sleep');
  assert.equal(await world.database.prisma.stateLock.count({ where: { stackId } }), 0, 'the lock is released');
});

test('the sensitive variable and output are in no API answer, no log and no database dump', async (t) => {
  if (!terraformOrSkip(t) || !stackId) return;
  const forms = [SECRET, Buffer.from(SECRET).toString('base64'), Buffer.from(SECRET).toString('hex')];
  for (const form of forms) assert.ok(!answers.some((answer) => answer.includes(form)), `an API answer contains ${form}`);
  const logs = await world.database.prisma.stackRunLogChunk.findMany();
  assert.ok(logs.length > 0);
  assert.ok(!logs.some((chunk) => chunk.text.includes(SECRET)), 'a log line holds the secret');
  const dump = await dumpDatabase(world.database.url);
  assert.match(dump.text, /state_versions/);
  for (const form of forms) assert.ok(!dump.text.includes(form), `${dump.tool} holds ${form}`);
});
