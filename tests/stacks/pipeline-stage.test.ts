/**
 * The pipeline stage `stack "SLUG" action="plan|apply"` end to end: pipelines created and triggered through
 * the API, the worker's real `run` job (worker/jobs/run-pipeline.ts), the stack worker running the real
 * terraform on configurations of `terraform_data` only. A plan stage shows the change summary and leaves the
 * plan run `planned`; an apply on an auto-apply stack lands its outputs (and a destroy goes alike); an apply waits for approval through
 * the API, across a worker restart that waits for the same stack run; cancelling the pipeline run cancels
 * the stack run; a stack name unknown to the tenant is refused when the pipeline is saved, and fails the
 * stage when it is known only at run time.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import pino from 'pino';
import { runPipelineJob, type RunPipelineDeps } from '../../worker/jobs/run-pipeline';
import { RecordingPublisher, runJob, storedLog } from '../runs/helpers';
import { api, packConfiguration, useStackWorld, waitForRun } from './support';
import { slowShowTerraform, stackConfig, terraformDir, terraformOrSkip } from './terraform';

process.env.BUILDIT_SECRET_KEY = randomBytes(32).toString('base64');

const PUBLIC_URL = 'https://buildit.example.test';

// The auto-apply stack's terraform has a slow `show`: its runs are planned for a second before their plan is stored.
const world = useStackWorld({ cancelGraceMs: 3_000, env: { ...process.env, BUILDIT_TERRAFORM_BINS: `slow-show=${slowShowTerraform(1)}` } });

const admin = () => world.world.adminA.token;
const tenantId = () => world.world.tenantA;

function deps(extra: Partial<RunPipelineDeps> = {}): RunPipelineDeps {
  return {
    prisma: world.database.prisma,
    publisher: new RecordingPublisher(world.database.prisma),
    executors: {},
    cancelPollMs: 100,
    stackPollMs: 100,
    publicUrl: PUBLIC_URL,
    logger: pino({ level: 'silent' }),
    ...extra,
  };
}

/** A stack of tenant A with the test configuration uploaded by a first (API) plan run, as `buildit stacks plan` does. */
async function stackWithConfiguration(name: string, options: { autoApply?: boolean } = {}): Promise<{ id: string; slug: string }> {
  const created = await api('POST', '/api/v1/tenants/{tenantId}/stacks', admin(), { tenantId: tenantId() }, { name, ...options });
  assert.equal(created.status, 201, created.text);
  const stack = created.body as { id: string; slug: string };
  const configuration = packConfiguration(terraformDir({ 'main.tf': stackConfig({ backend: false }) }).dir);
  const upload = await api('POST', '/api/v1/stacks/{stackId}/runs', admin(), { stackId: stack.id }, { kind: 'plan', configuration });
  assert.equal(upload.status, 201, upload.text);
  await waitForRun(admin(), (upload.body as { id: string }).id, ['planned']);
  return stack;
}

/** A pipeline of tenant A saved and triggered through the API (as the admin): the run and its stage runs. */
async function triggerPipeline(config: string): Promise<{ runId: string; stageRunIds: Map<string, string> }> {
  const created = await api(
    'POST',
    '/api/v1/tenants/{tenantId}/pipelines',
    admin(),
    { tenantId: tenantId() },
    { name: `infra-${randomBytes(3).toString('hex')}`, config },
  );
  assert.equal(created.status, 201, created.text);
  const pipelineId = (created.body as { id: string }).id;
  const triggered = await api('POST', '/api/v1/pipelines/{pipelineId}/runs', admin(), { pipelineId }, { event: 'manual' });
  assert.equal(triggered.status, 201, triggered.text);
  const run = triggered.body as { id: string; stages: Array<{ id: string; stageId: string }> };
  return { runId: run.id, stageRunIds: new Map(run.stages.map((stage) => [stage.stageId, stage.id])) };
}

async function stageRow(stageRunId: string) {
  return world.database.prisma.stageRun.findUniqueOrThrow({ where: { id: stageRunId } });
}

async function stageLog(stageRunId: string): Promise<string> {
  return (await storedLog(world.database.prisma, stageRunId)).text;
}

/** Polls until the stage run has queued its stack run and that run is in one of `statuses`. */
async function waitForStageStackRun(stageRunId: string, statuses: string[]): Promise<string> {
  for (const deadline = Date.now() + 90_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
    const { stackRunId } = await stageRow(stageRunId);
    if (stackRunId === null) continue;
    const run = await world.database.prisma.stackRun.findUniqueOrThrow({ where: { id: stackRunId } });
    if (statuses.includes(run.status)) return stackRunId;
  }
  throw new Error(`stage run ${stageRunId} has no stack run in ${statuses.join('|')}`);
}

test('a plan stage queues a plan run of the stack as the pipeline run, shows the change summary, and succeeds when planned', async (t) => {
  if (!terraformOrSkip(t)) return;
  const stack = await stackWithConfiguration('Network');
  const { runId, stageRunIds } = await triggerPipeline(`pipeline "infra"\nstage "plan" { stack "${stack.slug}" action="plan"; }\n`);
  const outcome = await runPipelineJob(runJob(runId), { signal: new AbortController().signal }, deps());
  assert.equal(outcome.kind === 'ran' && outcome.result.status, 'succeeded');

  const stage = await stageRow(stageRunIds.get('plan')!);
  assert.deepEqual([stage.status, stage.executor], ['succeeded', 'stack']);
  const stackRun = await world.database.prisma.stackRun.findUniqueOrThrow({ where: { id: stage.stackRunId! } });
  // Left planned, as a plan queued through the API is: reviewable, never applied, blocking nothing.
  assert.deepEqual(
    [stackRun.stackId, stackRun.kind, stackRun.status, stackRun.event, stackRun.triggeredBy, stackRun.triggeredById],
    [stack.id, 'plan', 'planned', 'pipeline', `pipeline-run:${runId}/plan`, world.world.adminA.userId],
  );
  const shown = (await api('GET', '/api/v1/runs/{runId}', admin(), { runId })).body as { stages: Array<{ stageId: string; stackRunId: string | null }> };
  assert.equal(shown.stages.find((s) => s.stageId === 'plan')?.stackRunId, stackRun.id, 'the API names the stack run of the stage');
  const log = await stageLog(stage.id);
  assert.match(log, new RegExp(`^queued stack run #${stackRun.number} of "${stack.slug}" \\(plan\\): ${PUBLIC_URL}/stacks/runs/${stackRun.id}$`, 'm'));
  assert.match(log, /^plan: 2 to add, 0 to change, 0 to destroy, 0 to replace$/m);
  assert.match(log, /^ {2}\+ terraform_data\.thing \(create\)$/m);
  assert.match(log, /^ {2}\+ terraform_data\.secret \(create\)$/m);

  const audit = await world.database.prisma.auditLog.findFirst({ where: { action: 'stack.run', targetId: stackRun.id } });
  assert.equal(audit?.actorUserId, world.world.adminA.userId, 'the audit row names who triggered the pipeline run');
  assert.deepEqual(audit?.details, { stackId: stack.id, kind: 'plan', number: stackRun.number, pipelineRunId: runId, stage: 'plan' });
});

test('an apply stage on an auto-apply stack applies at once; the outputs land in the run, the stack and its environment; destroy alike', async (t) => {
  if (!terraformOrSkip(t)) return;
  const created = await api(
    'POST',
    '/api/v1/tenants/{tenantId}/stacks',
    admin(),
    { tenantId: tenantId() },
    { name: 'Web', autoApply: true, environment: 'web-prod', terraformBinary: 'slow-show' },
  );
  assert.equal(created.status, 201, created.text);
  const stack = created.body as { id: string; slug: string };
  const configuration = packConfiguration(terraformDir({ 'main.tf': stackConfig({ backend: false }) }).dir);
  // The upload: a plan run (never applied, even on an auto-apply stack).
  const upload = await api('POST', '/api/v1/stacks/{stackId}/runs', admin(), { stackId: stack.id }, { kind: 'plan', configuration });
  await waitForRun(admin(), (upload.body as { id: string }).id, ['planned']);

  const { runId, stageRunIds } = await triggerPipeline(`pipeline "ship"\nstage "infra" { stack "${stack.slug}" action="apply"; }\n`);
  const outcome = await runPipelineJob(runJob(runId), { signal: new AbortController().signal }, deps());
  assert.equal(outcome.kind === 'ran' && outcome.result.status, 'succeeded');
  const stage = await stageRow(stageRunIds.get('infra')!);
  assert.equal(stage.status, 'succeeded', stage.reason ?? '');
  const stackRun = await world.database.prisma.stackRun.findUniqueOrThrow({ where: { id: stage.stackRunId! } });
  assert.deepEqual([stackRun.kind, stackRun.status, stackRun.approvedById], ['apply', 'applied', null]);
  const outputs = { label: { sensitive: false, value: 'one' }, password: { sensitive: true } };
  assert.deepEqual(stackRun.outputs, outputs);
  assert.deepEqual(((await api('GET', '/api/v1/stacks/{stackId}', admin(), { stackId: stack.id })).body as { outputs: unknown }).outputs, outputs);
  const environment = await world.database.prisma.environment.findFirstOrThrow({ where: { stackId: stack.id } });
  assert.deepEqual(environment.outputs, outputs);
  const log = await stageLog(stage.id);
  assert.match(log, /^approved \(the stack applies automatically\)$/m);
  assert.ok(!log.includes('waiting for approval'), 'a run of an auto-apply stack, planned until its plan is stored, never asks for approval');
  assert.match(log, /^applied; outputs: label, password \(sensitive\)$/m);
  assert.ok(!log.includes('default-password'), 'no sensitive value in the stage log');

  // `destroy` goes the same way: a destroy run, applied at once on this stack.
  const teardown = await triggerPipeline(`pipeline "teardown"\nstage "down" { stack "${stack.slug}" action="destroy"; }\n`);
  const destroyed = await runPipelineJob(runJob(teardown.runId), { signal: new AbortController().signal }, deps());
  assert.equal(destroyed.kind === 'ran' && destroyed.result.status, 'succeeded');
  const down = await stageRow(teardown.stageRunIds.get('down')!);
  const destroyRun = await world.database.prisma.stackRun.findUniqueOrThrow({ where: { id: down.stackRunId! } });
  assert.deepEqual([down.status, destroyRun.kind, destroyRun.status], ['succeeded', 'destroy', 'applied']);
  assert.match(await stageLog(down.id), /^plan: 0 to add, 0 to change, 2 to destroy, 0 to replace$/m);
  assert.match(await stageLog(down.id), /^ {2}- terraform_data\.thing \(delete\)$/m);
});

test('an apply stage waits for approval through the API; a worker restart meanwhile waits for the same stack run', async (t) => {
  if (!terraformOrSkip(t)) return;
  const stack = await stackWithConfiguration('Database');
  const { runId, stageRunIds } = await triggerPipeline(`pipeline "db"\nstage "migrate" { stack "${stack.slug}" action="apply"; }\n`);
  const stageRunId = stageRunIds.get('migrate')!;

  // The first worker waits for approval, then lets go of the run (a shutdown): the stack run is left alone.
  const shutdown = new AbortController();
  const first = runPipelineJob(runJob(runId), { signal: shutdown.signal }, deps());
  const stackRunId = await waitForStageStackRun(stageRunId, ['planned']);
  for (let i = 0; i < 50 && !(await stageLog(stageRunId)).includes('waiting for approval'); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  shutdown.abort();
  await assert.rejects(first, /this worker stopped supervising the run/);
  assert.equal((await world.database.prisma.stackRun.findUniqueOrThrow({ where: { id: stackRunId } })).status, 'planned');

  // The next worker takes the run over and waits for that run; nobody but a person with stack.apply may approve it.
  const second = runPipelineJob(runJob(runId, 2), { signal: new AbortController().signal }, deps());
  for (let i = 0; i < 50 && !(await stageLog(stageRunId)).includes('waiting again'); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal((await api('POST', '/api/v1/stack-runs/{stackRunId}/approve', world.world.memberA.token, { stackRunId })).status, 403);
  const approved = await api('POST', '/api/v1/stack-runs/{stackRunId}/approve', admin(), { stackRunId });
  assert.equal(approved.status, 200, approved.text);
  const outcome = await second;
  assert.equal(outcome.kind === 'ran' && outcome.result.status, 'succeeded');

  const stage = await stageRow(stageRunId);
  assert.deepEqual([stage.status, stage.stackRunId], ['succeeded', stackRunId]);
  const runs = await world.database.prisma.stackRun.findMany({ where: { triggeredBy: `pipeline-run:${runId}/migrate` } });
  assert.deepEqual(
    runs.map((run) => [run.id, run.status, run.approvedById]),
    [[stackRunId, 'applied', world.world.adminA.userId]],
    'exactly one stack run, applied after the approval',
  );
  const log = await stageLog(stageRunId);
  assert.match(log, new RegExp(`^waiting for approval: review and approve the plan at ${PUBLIC_URL}/stacks/runs/${stackRunId}$`, 'm'));
  assert.match(log, /^waiting again for stack run #\d+ of "database" \(apply\), now planned: /m);
  assert.match(log, /^approved by /m);
  assert.match(log, /^applied; outputs: label, password \(sensitive\)$/m);
});

test("a plan that errors fails the stage with the stack run's reason; its dependents are skipped", async (t) => {
  if (!terraformOrSkip(t)) return;
  const created = await api('POST', '/api/v1/tenants/{tenantId}/stacks', admin(), { tenantId: tenantId() }, { name: 'Broken' });
  const stack = created.body as { id: string; slug: string };
  const configuration = packConfiguration(terraformDir({ 'main.tf': 'resource "terraform_data" "x" {\n' }).dir);
  const upload = await api('POST', '/api/v1/stacks/{stackId}/runs', admin(), { stackId: stack.id }, { kind: 'plan', configuration });
  await waitForRun(admin(), (upload.body as { id: string }).id, ['errored']);

  const { runId, stageRunIds } = await triggerPipeline(
    `pipeline "broken"\nstage "plan" { stack "${stack.slug}"; }\nstage "after" needs="plan" { executor "local"; run "true"; }\n`,
  );
  const outcome = await runPipelineJob(runJob(runId), { signal: new AbortController().signal }, deps());
  assert.equal(outcome.kind === 'ran' && outcome.result.status, 'failed');
  const stage = await stageRow(stageRunIds.get('plan')!);
  assert.equal(stage.status, 'failed');
  assert.match(stage.reason ?? '', /^stack run #2 of "broken" errored: terraform init failed \(exit 1\): see the log$/);
  assert.match(await stageLog(stage.id), /^stack run #2 of "broken" errored: /m);
  assert.deepEqual([(await stageRow(stageRunIds.get('after')!)).status], ['skipped']);
});

test('cancelling the pipeline run cancels the stack run its stage waits for', async (t) => {
  if (!terraformOrSkip(t)) return;
  const stack = await stackWithConfiguration('Queue');
  const { runId, stageRunIds } = await triggerPipeline(`pipeline "q"\nstage "apply" { stack "${stack.slug}" action="apply"; }\n`);
  const job = runPipelineJob(runJob(runId), { signal: new AbortController().signal }, deps());
  const stackRunId = await waitForStageStackRun(stageRunIds.get('apply')!, ['planned']);
  const cancelled = await api('POST', '/api/v1/runs/{runId}/cancel', admin(), { runId });
  assert.equal(cancelled.status, 200, cancelled.text);
  const outcome = await job;
  assert.equal(outcome.kind === 'ran' && outcome.result.status, 'cancelled');
  const stage = await stageRow(stageRunIds.get('apply')!);
  assert.equal(stage.status, 'cancelled');
  const stackRun = await world.database.prisma.stackRun.findUniqueOrThrow({ where: { id: stackRunId } });
  assert.equal(stackRun.status, 'cancelled');
  assert.match(await stageLog(stage.id), /^cancelled the stack run$/m);
});

test('a stack the tenant lacks: refused when the pipeline is saved (at its line:col), a stage failure when named at run time', async () => {
  const refused = await api(
    'POST',
    '/api/v1/tenants/{tenantId}/pipelines',
    admin(),
    { tenantId: tenantId() },
    { name: 'typo', config: 'pipeline "typo"\nstage "plan" { stack "netwrk"; }\n' },
  );
  assert.equal(refused.status, 422, refused.text);
  const details = (refused.body as { error: { details: Array<{ line: number; column: number; message: string }> } }).error.details;
  assert.deepEqual(
    details.map((d) => [d.line, d.column, d.message]),
    [[2, 22, 'stage "plan" names stack "netwrk", which does not exist in this tenant']],
  );

  const { runId, stageRunIds } = await triggerPipeline(
    'pipeline "regions"\nvariable "region" default="mars"\nstage "plan" { stack "cluster-${var.region}"; }\n',
  );
  const outcome = await runPipelineJob(runJob(runId), { signal: new AbortController().signal }, deps());
  assert.equal(outcome.kind === 'ran' && outcome.result.status, 'failed');
  const stage = await stageRow(stageRunIds.get('plan')!);
  assert.equal(stage.status, 'failed');
  assert.match(stage.reason ?? '', /^stack "cluster-mars" does not exist in this tenant \(/);
  assert.equal(stage.stackRunId, null);
});
