/**
 * The orchestrator with REAL executors: testdata/*.kdl planned by the real planner, run by the
 * LocalExecutor, and the same pipelines on Docker (private engine, local/busybox) with the same results.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dockerOrSkip } from '../../../tests/support/engines';
import { DockerExecutor, findContainersByLabel } from '../executors/docker';
import { LocalExecutor } from '../executors/local';
import type { Executor } from '../executors/types';
import { CacheStore, HostStorage } from '../workspace';
import { runPlan } from './run-plan';
import { storageArtifactStore } from './workspace-stores';
import { happenedBefore, loadTestPlan, RecordingSink } from '../../../tests/support/plans';
import type { RunPlanOptions, RunResult } from './types';
import type { ExecutionPlan } from '../../pipeline/plan-types';
import type Docker from 'dockerode';

const MULTI_LINE_KEY = '-----BEGIN TEST KEY-----\nZmlyc3Qtc2VjcmV0LWxpbmU=\nc2Vjb25kLXNlY3JldC1saW5l\n-----END TEST KEY-----';
const SECRETS = { DEPLOY_KEY: MULTI_LINE_KEY, API_TOKEN: 'api-token-0123456789' };

let runCounter = 0;

type MakeExecutor = (storage: HostStorage) => Executor;

/** Runs a plan in fresh storage (with the given cache root) on one executor. */
async function runOn(
  t: TestContext,
  make: MakeExecutor,
  plan: ExecutionPlan,
  extra: Partial<Omit<RunPlanOptions, 'sink'>> & { cacheRoot?: string; sink?: RecordingSink } = {},
): Promise<{ result: RunResult; sink: RecordingSink; runId: string }> {
  const root = await mkdtemp(path.join(tmpdir(), 'buildit-orch-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const runId = `test-${process.pid}-${++runCounter}`;
  const { cacheRoot, sink = new RecordingSink(), ...options } = extra;
  const storage = new HostStorage({ runsRoot: path.join(root, 'runs'), cacheRoot: cacheRoot ?? path.join(root, 'cache') });
  const executor = make(storage);
  const result = await runPlan({
    plan,
    runId,
    executors: { [executor.name]: executor },
    defaultExecutor: executor.name,
    sink,
    artifacts: storageArtifactStore(storage, runId),
    cacheStore: new CacheStore(storage.cacheRoot),
    secrets: SECRETS,
    approvals: async () => true,
    concurrency: 4,
    ...options,
  });
  return { result, sink, runId };
}

const local: MakeExecutor = (storage) => new LocalExecutor({ storage, graceMs: 500 });

function statuses(result: RunResult) {
  return Object.fromEntries(result.stages.map((s) => [s.id, s.reason ? `${s.status}: ${s.reason}` : s.status]));
}

test('local: a DAG with a matrix runs in dependency order, overlaps independent stages, passes artifacts', async (t) => {
  const { result, sink } = await runOn(t, local, await loadTestPlan('dag.kdl'));
  assert.equal(result.status, 'succeeded');
  const before = (a: string, b: string) => happenedBefore(sink, sink.indexOf('stage.finished', a), sink.indexOf('stage.started', b));
  assert.ok(before('lint', 'build'));
  assert.ok(before('build', 'test[node=18]') && before('build', 'test[node=20]'));
  assert.ok(before('test[node=18]', 'package') && before('test[node=20]', 'package'));
  // docs and lint have no needs: both start before either ends.
  assert.ok(happenedBefore(sink, sink.indexOf('stage.started', 'docs'), sink.indexOf('stage.finished', 'lint')));
  assert.deepEqual(sink.logLines('test[node=18]'), ['built-by-build', 'test node=18']);
  assert.deepEqual(sink.logLines('test[node=20]'), ['built-by-build', 'test node=20']);
});

test('local: the plan concurrency is respected (max running from events)', async (t) => {
  const plan = await loadTestPlan('dag.kdl');
  const { result, sink } = await runOn(t, local, { ...plan, concurrency: 1 });
  assert.equal(result.status, 'succeeded');
  assert.equal(sink.maxRunning(), 1);
  const wide = await runOn(t, local, { ...plan, concurrency: 2 });
  assert.equal(wide.sink.maxRunning(), 2);
});

test('local: a failure skips exactly its dependents; allow-failure does not block; exit codes kept', async (t) => {
  const { result, sink } = await runOn(t, local, await loadTestPlan('failures.kdl'));
  assert.equal(result.status, 'failed');
  assert.deepEqual(statuses(result), {
    broken: 'failed: exit code 3',
    optional: 'failed: exit code 1',
    independent: 'succeeded',
    'after-broken': 'skipped: needs "broken" failed',
    'after-optional': 'succeeded',
  });
  assert.equal(sink.finished('broken').exitCode, 3);
  assert.deepEqual(sink.logLines('broken'), ['about to fail']);
});

test('local: retry numbers attempts and keeps seq contiguous; a timeout stops the stage', async (t) => {
  const { result, sink } = await runOn(t, local, await loadTestPlan('retry-timeout.kdl'));
  assert.equal(result.status, 'failed');
  assert.deepEqual(
    sink.of('stage.started', 'flaky').map((e) => e.attempt),
    [1, 2, 3],
  );
  assert.equal(sink.finished('flaky').status, 'succeeded');
  assert.equal(sink.finished('flaky').attempt, 3);
  assert.deepEqual(
    sink.of('stage.log', 'flaky').map((e) => e.seq),
    [1, 2, 3, 4, 5],
  );
  assert.deepEqual(
    sink.logLines('flaky').filter((line) => line.startsWith('attempt ')),
    ['attempt 1', 'attempt 1 of 3 failed (exit code 1); retrying', 'attempt 2', 'attempt 2 of 3 failed (exit code 1); retrying', 'attempt 3'],
  );
  assert.equal(sink.finished('slow').status, 'failed');
  assert.equal(sink.finished('slow').reason, 'timed out after 4s');
  assert.ok(sink.finished('slow').durationMs < 10_000);
  assert.equal(sink.finished('after-slow').reason, 'needs "slow" failed');
});

test('local: `when` skips off-branch stages with the planner reason; approval gates a stage', async (t) => {
  const onDev = await runOn(t, local, await loadTestPlan('when-approval.kdl', { branch: 'dev' }), { approvals: async () => true });
  assert.equal(onDev.result.status, 'succeeded');
  assert.equal(onDev.sink.finished('main-only').status, 'skipped');
  assert.match(onDev.sink.finished('main-only').reason ?? '', /branch/);
  assert.equal(onDev.sink.finished('deploy').status, 'succeeded');
  assert.equal(onDev.sink.finished('announce').status, 'succeeded');

  const denied = await runOn(t, local, await loadTestPlan('when-approval.kdl'), {
    approvals: async () => ({ approved: false, reason: 'approval required: pass --approve all|STAGE' }),
  });
  assert.deepEqual(statuses(denied.result), {
    build: 'succeeded',
    'main-only': 'succeeded',
    deploy: 'skipped: approval required: pass --approve all|STAGE',
    announce: 'skipped: needs "deploy" was skipped',
  });
});

test('local: a multi-line secret is injected and never appears in any event; a second run reuses the cache', async (t) => {
  const cacheRoot = await mkdtemp(path.join(tmpdir(), 'buildit-cache-'));
  t.after(() => rm(cacheRoot, { recursive: true, force: true }));
  const plan = await loadTestPlan('secrets-cache.kdl');
  const first = await runOn(t, local, plan, { cacheRoot });
  assert.equal(first.result.status, 'succeeded');
  const logs = first.sink.of('stage.log', 'use-secrets');
  assert.deepEqual(
    logs.filter((e) => e.stream === 'stdout').map((e) => e.line),
    ['***', '***', '***', '***', 'key:***', '***'],
  );
  assert.deepEqual(
    logs.filter((e) => e.stream === 'stderr').map((e) => e.line),
    ['Bearer ***'],
  );
  const all = JSON.stringify(first.sink.events);
  for (const fragment of [...MULTI_LINE_KEY.split('\n'), SECRETS.API_TOKEN]) assert.ok(!all.includes(fragment), fragment);
  assert.ok(first.sink.logLines('cached').includes('cache miss'));

  const second = await runOn(t, local, plan, { cacheRoot });
  assert.ok(second.sink.logLines('cached').includes(`cache hit: ${first.runId}`), second.sink.logLines('cached').join('\n'));
});

test('local: cancel stops a running stage within 5 s and the run ends cancelled', async (t) => {
  const controller = new AbortController();
  const plan = await loadTestPlan('retry-timeout.kdl');
  const slowOnly = { ...plan, stages: plan.stages.filter((s) => s.id === 'slow').map((s) => ({ ...s, timeoutMs: null })) };
  const started = Date.now();
  setTimeout(() => controller.abort(), 300);
  const { result, sink } = await runOn(t, local, slowOnly, { signal: controller.signal });
  assert.equal(result.status, 'cancelled');
  assert.equal(sink.finished('slow').status, 'cancelled');
  assert.ok(Date.now() - started < 5_000);
});

// ---------------------------------------------------------------------------------------------
// Docker: the same pipelines give the same results.

/** What must be equal between executors: statuses, reasons, attempts, exit codes, and log lines per stream. */
function comparable(result: RunResult, sink: RecordingSink) {
  return result.stages.map((stage) => {
    const stopped = stage.reason?.startsWith('timed out') ?? false;
    return {
      id: stage.id,
      status: stage.status,
      reason: stage.reason,
      attempts: stage.attempts,
      exitCode: stopped ? 'stopped' : stage.exitCode,
      stdout: sink
        .of('stage.log', stage.id)
        .filter((e) => e.stream === 'stdout')
        .map((e) => e.line),
      // A stopped stage's shell may or may not print "Terminated" for its killed child, depending on which
      // of the two the signal reaches first: that stderr is a race, not a difference between executors.
      stderr: stopped
        ? 'not compared'
        : sink
            .of('stage.log', stage.id)
            .filter((e) => e.stream === 'stderr')
            .map((e) => e.line),
      system: sink
        .of('stage.log', stage.id)
        .filter((e) => e.stream === 'system')
        .map((e) => e.line),
    };
  });
}

async function assertNoContainers(docker: Docker, runId: string): Promise<void> {
  assert.deepEqual(await findContainersByLabel(docker, { 'buildit.run': runId }), []);
}

for (const file of ['dag.kdl', 'failures.kdl', 'retry-timeout.kdl', 'when-approval.kdl', 'secrets-cache.kdl']) {
  test(`docker and local give the same results for ${file}`, async (t) => {
    const docker = await dockerOrSkip(t);
    if (!docker) return;
    const plan = await loadTestPlan(file);
    const onLocal = await runOn(t, local, plan);
    const onDocker = await runOn(t, (storage) => new DockerExecutor({ storage, docker, stopGraceSeconds: 1 }), plan);
    assert.deepEqual(comparable(onDocker.result, onDocker.sink), comparable(onLocal.result, onLocal.sink));
    assert.equal(onDocker.result.status, onLocal.result.status);
    await assertNoContainers(docker, onDocker.runId);
  });
}

test('docker: cancel stops a running container within 5 s and leaves none behind', async (t) => {
  const docker = await dockerOrSkip(t);
  if (!docker) return;
  const controller = new AbortController();
  const plan = await loadTestPlan('retry-timeout.kdl');
  const slowOnly = { ...plan, stages: plan.stages.filter((s) => s.id === 'slow').map((s) => ({ ...s, timeoutMs: null })) };
  const sink = new RecordingSink();
  const run = runOn(t, (storage) => new DockerExecutor({ storage, docker, stopGraceSeconds: 1 }), slowOnly, { signal: controller.signal, sink });
  // Cancel once the stage printed, i.e. the container really runs.
  while (!sink.logLines('slow').includes('sleeping')) await new Promise((resolve) => setTimeout(resolve, 20));
  const cancelledAt = Date.now();
  controller.abort();
  const { result, runId } = await run;
  assert.equal(result.status, 'cancelled');
  assert.ok(Date.now() - cancelledAt < 5_000);
  await assertNoContainers(docker, runId);
});
