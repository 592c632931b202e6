/** Orchestrator policies, fast, on the FakeExecutor (the real executors are covered in executors.test.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeExecutor } from '../../../tests/support/fake-executor';
import { runPlan } from './run-plan';
import { happenedBefore, planOf, RecordingSink, stage } from '../../../tests/support/plans';
import type { RunPlanOptions } from './types';
import type { ExecutionPlan } from '../../pipeline/plan-types';

function setup(plan: ExecutionPlan, extra: Partial<RunPlanOptions> = {}) {
  const fake = new FakeExecutor();
  const sink = new RecordingSink();
  const run = runPlan({
    plan,
    runId: 'run-1',
    executors: { fake },
    defaultExecutor: 'fake',
    sink,
    concurrency: 4,
    ...extra,
  });
  return { fake, sink, run };
}

const sleep = (ms: number) => ({ FAKE_SLEEP_MS: String(ms) });

test('a stage starts only after its needs finished; events carry time, runId and seq from 1', async () => {
  const { sink, run } = setup(
    planOf([stage('a', { env: { ...sleep(30), FAKE_OUTPUT: 'one\ntwo' } }), stage('b', { needs: ['a'], env: { FAKE_OUTPUT: 'three' } })]),
  );
  const result = await run;
  assert.equal(result.status, 'succeeded');
  assert.ok(happenedBefore(sink, sink.indexOf('stage.finished', 'a'), sink.indexOf('stage.started', 'b')));
  assert.deepEqual(
    sink.of('stage.log', 'a').map((e) => [e.seq, e.line]),
    [
      [1, 'one'],
      [2, 'two'],
    ],
  );
  assert.deepEqual(
    sink.of('stage.log', 'b').map((e) => e.seq),
    [1],
  );
  assert.equal(sink.events[0]!.type, 'run.started');
  assert.equal(sink.events.at(-1)!.type, 'run.finished');
  for (const event of sink.events) {
    assert.equal(event.runId, 'run-1');
    assert.match(event.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  }
  assert.deepEqual(
    result.stages.map((s) => [s.id, s.status, s.attempts]),
    [
      ['a', 'succeeded', 1],
      ['b', 'succeeded', 1],
    ],
  );
});

test('independent stages overlap', async () => {
  const { sink, run } = setup(planOf([stage('a', { env: sleep(80) }), stage('b', { env: sleep(80) })]));
  await run;
  assert.ok(happenedBefore(sink, sink.indexOf('stage.started', 'b'), sink.indexOf('stage.finished', 'a')));
  assert.ok(happenedBefore(sink, sink.indexOf('stage.started', 'a'), sink.indexOf('stage.finished', 'b')));
  assert.equal(sink.maxRunning(), 2);
});

test('the plan concurrency caps stages running at once', async () => {
  const stages = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => stage(id, { env: sleep(20) }));
  const { sink, run } = setup(planOf(stages, { concurrency: 2 }));
  const result = await run;
  assert.equal(result.status, 'succeeded');
  assert.equal(sink.maxRunning(), 2);
  assert.equal(sink.of('stage.queued').length, 6);
});

test('the default concurrency applies when the plan sets none', async () => {
  const stages = ['a', 'b', 'c', 'd'].map((id) => stage(id, { env: sleep(20) }));
  const { sink, run } = setup(planOf(stages), { concurrency: 3 });
  await run;
  assert.equal(sink.maxRunning(), 3);
});

test('a failure skips exactly its dependents, transitively; independent branches go on', async () => {
  const plan = planOf([
    stage('lint', { env: { FAKE_EXIT_CODE: '2' } }),
    stage('other', { env: sleep(30) }),
    stage('build', { needs: ['lint'] }),
    stage('unrelated', { needs: ['other'] }),
    stage('deploy', { needs: ['build', 'unrelated'] }),
  ]);
  const { sink, run } = setup(plan);
  const result = await run;
  assert.equal(result.status, 'failed');
  assert.deepEqual(
    result.stages.map((s) => [s.id, s.status, s.reason ?? '']),
    [
      ['lint', 'failed', 'exit code 2'],
      ['other', 'succeeded', ''],
      ['build', 'skipped', 'needs "lint" failed'],
      ['unrelated', 'succeeded', ''],
      ['deploy', 'skipped', 'needs "build" was skipped'],
    ],
  );
  assert.equal(sink.finished('lint').exitCode, 2);
  assert.equal(sink.indexOf('stage.started', 'build'), -1);
});

test('stages skipped by the plan are skipped with its reason, and so are their dependents', async () => {
  const plan = planOf([stage('a', { skip: { reason: 'when: branch is not main' } }), stage('b', { needs: ['a'] }), stage('c')]);
  const { sink, run } = setup(plan);
  const result = await run;
  assert.equal(result.status, 'succeeded');
  assert.equal(sink.finished('a').reason, 'when: branch is not main');
  assert.equal(sink.finished('b').status, 'skipped');
  assert.equal(sink.finished('b').reason, 'needs "a" was skipped');
  assert.equal(sink.finished('c').status, 'succeeded');
  assert.equal(sink.of('stage.started').length, 1);
});

test('a stage timeout fails the stage with a readable reason and cancels the work', async () => {
  const { sink, fake, run } = setup(planOf([stage('slow', { timeoutMs: 50, env: sleep(10_000) }), stage('after', { needs: ['slow'] })]));
  const result = await run;
  assert.equal(result.status, 'failed');
  assert.equal(sink.finished('slow').status, 'failed');
  assert.equal(sink.finished('slow').reason, 'timed out after 50ms');
  assert.equal(fake.cancelled.length, 1);
  assert.deepEqual(fake.destroyed, ['fake-1']);
  assert.equal(sink.finished('after').reason, 'needs "slow" failed');
});

test('retry re-runs failed attempts: numbered starts, one finish, contiguous log seq', async () => {
  const plan = planOf([stage('flaky', { retry: 2, env: { FAKE_EXIT_CODES: '1,1,0', FAKE_OUTPUT: 'try' } })]);
  const { sink, fake, run } = setup(plan);
  const result = await run;
  assert.equal(result.status, 'succeeded');
  assert.deepEqual(
    sink.of('stage.started', 'flaky').map((e) => e.attempt),
    [1, 2, 3],
  );
  assert.equal(sink.of('stage.finished', 'flaky').length, 1);
  assert.equal(sink.finished('flaky').attempt, 3);
  const seqs = sink.of('stage.log', 'flaky').map((e) => e.seq);
  assert.deepEqual(
    seqs,
    seqs.map((_, i) => i + 1),
  );
  assert.equal(sink.logLines('flaky').filter((line) => line === 'try').length, 3);
  assert.deepEqual(
    fake.jobs.map((job) => job.attempt),
    [1, 2, 3],
  );
  assert.deepEqual(
    fake.jobs.map((job) => job.env.BUILDIT_ATTEMPT),
    ['1', '2', '3'],
  );
  assert.equal(fake.jobs[0]!.labels['buildit.run'], 'run-1');
});

test('retry stops at the limit and reports the last attempt', async () => {
  const { sink, run } = setup(planOf([stage('bad', { retry: 1, env: { FAKE_EXIT_CODE: '3' } })]));
  const result = await run;
  assert.equal(result.status, 'failed');
  assert.deepEqual(
    sink.of('stage.started', 'bad').map((e) => e.attempt),
    [1, 2],
  );
  assert.deepEqual([sink.finished('bad').attempt, sink.finished('bad').exitCode], [2, 3]);
});

test('allow-failure: the stage fails, the run does not, and dependents still run (GitLab rule)', async () => {
  const plan = planOf([stage('optional', { allowFailure: true, env: { FAKE_EXIT_CODE: '1' } }), stage('next', { needs: ['optional'] })]);
  const { sink, run } = setup(plan);
  const result = await run;
  assert.equal(result.status, 'succeeded');
  assert.equal(sink.finished('optional').status, 'failed');
  assert.equal(sink.finished('next').status, 'succeeded');
});

test('approval: asked only once needs succeeded; approved runs, denied is skipped with the reason', async () => {
  const asked: string[] = [];
  const plan = planOf([
    stage('build', { env: sleep(20) }),
    stage('staging', { needs: ['build'], approval: true }),
    stage('prod', { needs: ['build'], approval: true }),
    stage('notify', { needs: ['prod'] }),
  ]);
  const { sink, run } = setup(plan, {
    approvals: async (id) => {
      asked.push(id);
      assert.equal(sink.finished('build').status, 'succeeded');
      return id === 'staging' ? true : { approved: false, reason: 'approval required: pass --approve all|STAGE' };
    },
  });
  const result = await run;
  assert.equal(result.status, 'succeeded');
  assert.deepEqual(asked.sort(), ['prod', 'staging']);
  assert.equal(sink.finished('staging').status, 'succeeded');
  assert.equal(sink.finished('prod').status, 'skipped');
  assert.equal(sink.finished('prod').reason, 'approval required: pass --approve all|STAGE');
  assert.equal(sink.finished('notify').reason, 'needs "prod" was skipped');
});

test('approval without any policy skips the stage with a reason', async () => {
  const { sink, run } = setup(planOf([stage('deploy', { approval: true })]));
  await run;
  assert.equal(sink.finished('deploy').status, 'skipped');
  assert.match(sink.finished('deploy').reason ?? '', /approval required/);
});

test('fail-fast cancels running stages and never starts pending ones', async () => {
  const plan = planOf([
    stage('fails', { env: { FAKE_EXIT_CODE: '1', ...sleep(20) } }),
    stage('long', { env: sleep(10_000) }),
    stage('later', { needs: ['long'] }),
  ]);
  const { sink, run } = setup(plan, { failFast: true });
  const result = await run;
  assert.equal(result.status, 'failed');
  assert.equal(result.reason, 'stage "fails" failed (fail-fast)');
  assert.equal(sink.finished('long').status, 'cancelled');
  assert.equal(sink.finished('long').reason, 'stage "fails" failed (fail-fast)');
  assert.equal(sink.finished('later').status, 'cancelled');
  assert.equal(sink.indexOf('stage.started', 'later'), -1);
});

test('cancel stops running stages at once; pending ones never start; the run is cancelled', async () => {
  const controller = new AbortController();
  const plan = planOf([stage('a', { env: sleep(10_000) }), stage('b', { env: sleep(10_000) }), stage('c', { needs: ['a'] })]);
  const { sink, fake, run } = setup(plan, { signal: controller.signal });
  setTimeout(() => controller.abort(), 30);
  const result = await run;
  assert.equal(result.status, 'cancelled');
  assert.deepEqual(
    result.stages.map((s) => s.status),
    ['cancelled', 'cancelled', 'cancelled'],
  );
  assert.equal(sink.finished('a').reason, 'run cancelled');
  assert.equal(sink.finished('c').reason, 'not started: run cancelled');
  assert.equal(sink.indexOf('stage.started', 'c'), -1);
  assert.equal(fake.destroyed.length, 2);
  assert.equal(sink.of('run.finished')[0]!.status, 'cancelled');
});

test('cancel gives up on an executor that ignores it, after the deadline, and still destroys', async () => {
  const controller = new AbortController();
  const { sink, fake, run } = setup(planOf([stage('stuck', { env: { ...sleep(60_000), FAKE_IGNORE_CANCEL: '1' } })]), {
    signal: controller.signal,
    cancelDeadlineMs: 50,
  });
  setTimeout(() => controller.abort(), 20);
  const result = await run;
  assert.equal(result.status, 'cancelled');
  assert.equal(sink.finished('stuck').exitCode, null);
  assert.deepEqual(fake.destroyed, ['fake-1']);
});

test('an already aborted signal runs nothing', async () => {
  const { sink, fake, run } = setup(planOf([stage('a')]), { signal: AbortSignal.abort() });
  const result = await run;
  assert.equal(result.status, 'cancelled');
  assert.equal(fake.jobs.length, 0);
  assert.equal(sink.finished('a').status, 'cancelled');
});

test('a cancel while a stage waits for approval ends the run without an answer', async () => {
  const controller = new AbortController();
  const { sink, run } = setup(planOf([stage('deploy', { approval: true })]), {
    signal: controller.signal,
    approvals: () => new Promise(() => {}),
  });
  setTimeout(() => controller.abort(), 20);
  const result = await run;
  assert.equal(result.status, 'cancelled');
  assert.equal(sink.finished('deploy').status, 'cancelled');
});

test('the pipeline timeout cancels the rest and fails the run', async () => {
  const plan = planOf([stage('a', { env: sleep(10_000) }), stage('b', { needs: ['a'] })], { timeoutMs: 40 });
  const { sink, run } = setup(plan);
  const result = await run;
  assert.equal(result.status, 'failed');
  assert.equal(result.reason, 'pipeline timed out after 40ms');
  assert.equal(sink.finished('a').status, 'cancelled');
  assert.equal(sink.finished('a').reason, 'pipeline timed out after 40ms');
  assert.equal(sink.finished('b').status, 'cancelled');
});

test('declared secrets are injected as env and masked in every line, multi-line ones line by line', async () => {
  const key = '-----BEGIN KEY-----\nc2VjcmV0LWtleS1ib2R5\n-----END KEY-----';
  const plan = planOf([
    stage('deploy', {
      secrets: ['DEPLOY_KEY', 'TOKEN'],
      secretEnv: { AUTH: [{ text: 'Bearer ' }, { secret: 'TOKEN' }] },
      env: { FAKE_ECHO_ENV: 'DEPLOY_KEY,AUTH', FAKE_STDERR: 'token is tok-12345' },
    }),
    stage('other', { env: { FAKE_OUTPUT: 'other sees tok-12345' } }),
  ]);
  const { sink, fake, run } = setup(plan, { secrets: { DEPLOY_KEY: key, TOKEN: 'tok-12345', UNUSED: 'unused-value' } });
  const result = await run;
  assert.equal(result.status, 'succeeded');
  const deployJob = fake.jobs.find((job) => job.stageId === 'deploy')!;
  assert.equal(deployJob.env.DEPLOY_KEY, key);
  assert.equal(deployJob.env.AUTH, 'Bearer tok-12345');
  assert.equal(deployJob.env.UNUSED, undefined);
  assert.equal(fake.jobs.find((job) => job.stageId === 'other')!.env.TOKEN, undefined);
  assert.deepEqual(sink.logLines('deploy'), ['DEPLOY_KEY=***', '***', '***', 'AUTH=Bearer ***', 'token is ***']);
  assert.deepEqual(sink.logLines('other'), ['other sees ***']);
  const all = JSON.stringify(sink.events);
  for (const secret of ['c2VjcmV0LWtleS1ib2R5', 'tok-12345', 'BEGIN KEY']) assert.ok(!all.includes(secret), secret);
});

test('a missing secret fails the stage with a clear reason, not the run process', async () => {
  const plan = planOf([stage('deploy', { secrets: ['DEPLOY_KEY'] }), stage('after', { needs: ['deploy'] })]);
  const { sink, fake, run } = setup(plan);
  const result = await run;
  assert.equal(result.status, 'failed');
  assert.equal(fake.jobs.length, 0);
  assert.match(sink.finished('deploy').reason ?? '', /missing secret "DEPLOY_KEY"/);
  assert.match(sink.logLines('deploy')[0] ?? '', /missing secret "DEPLOY_KEY"/);
  assert.equal(sink.finished('after').status, 'skipped');
});

test('an executor the run lacks, one not built yet, or a spawn error fails the stage with the reason', async () => {
  const plan = planOf([
    stage('boxed', { executor: 'docker' }),
    stage('k8s', { executor: 'kubernetes' }),
    stage('broken', { env: { FAKE_SPAWN_ERROR: 'image "x" is missing: build it first' } }),
  ]);
  const { sink, run } = setup(plan);
  const result = await run;
  assert.equal(result.status, 'failed');
  assert.equal(sink.finished('boxed').reason, 'executor "docker" is not available in this run (available: fake)');
  assert.equal(sink.finished('k8s').reason, 'executor "kubernetes" is not supported yet: use docker');
  assert.equal(sink.finished('broken').reason, 'could not start: image "x" is missing: build it first');
});

test('artifacts: restored from succeeded needs before start, collected after success; caches saved and released', async () => {
  const calls: string[] = [];
  const plan = planOf([
    stage('build', { artifacts: ['dist/**'], caches: [{ name: 'npm', key: 'npm-1', paths: ['.npm'] }] }),
    stage('fails', { artifacts: ['x'], env: { FAKE_EXIT_CODE: '1' }, allowFailure: true }),
    stage('test', { needs: ['build', 'fails'] }),
  ]);
  const { fake, run } = setup(plan, {
    concurrency: 1,
    artifacts: {
      restore: async (ids) => void calls.push(`restore ${ids.join(',')}`),
      collect: async (id, patterns) => void calls.push(`collect ${id} ${patterns.join(',')}`),
    },
    cacheStore: {
      prepare: async ({ key, paths }) => {
        calls.push(`prepare ${key} ${paths.join(',')}`);
        return {
          mounts: [{ volume: `cache/${key}`, path: '.npm' }],
          save: async () => void calls.push(`save ${key}`),
          release: async () => void calls.push(`release ${key}`),
        };
      },
    },
  });
  const result = await run;
  assert.equal(result.status, 'succeeded');
  assert.deepEqual(calls, ['prepare npm-1 .npm', 'collect build dist/**', 'save npm-1', 'release npm-1', 'restore build']);
  assert.deepEqual(fake.jobs[0]!.mounts, [{ volume: 'cache/npm-1', path: '.npm' }]);
});

test('a failing artifact collection fails the stage', async () => {
  const { sink, run } = setup(planOf([stage('build', { artifacts: ['dist'] })]), {
    artifacts: { restore: async () => {}, collect: async () => Promise.reject(new Error('no file matches "dist"')) },
  });
  const result = await run;
  assert.equal(result.status, 'failed');
  assert.equal(sink.finished('build').reason, 'collecting artifacts failed: no file matches "dist"');
});

test('a plan that is not triggered skips every stage with the reason', async () => {
  const { sink, fake, run } = setup(
    planOf([stage('a'), stage('b', { needs: ['a'] })], { triggered: false, notTriggeredReason: 'on push: branch "dev" does not match "main"' }),
  );
  const result = await run;
  assert.equal(result.status, 'succeeded');
  assert.equal(fake.jobs.length, 0);
  assert.deepEqual(
    sink.of('stage.finished').map((e) => e.reason),
    ['on push: branch "dev" does not match "main"', 'on push: branch "dev" does not match "main"'],
  );
});

test('an injected clock drives timestamps and durations', async () => {
  let t = Date.parse('2026-01-01T00:00:00.000Z');
  const { sink, run } = setup(planOf([stage('a')]), { now: () => (t += 1000) });
  const result = await run;
  assert.equal(sink.events[0]!.time, '2026-01-01T00:00:02.000Z');
  assert.ok(result.durationMs > 0 && result.durationMs % 1000 === 0);
});

test('a failing sink rejects the run, but only after running stages were stopped and destroyed', async () => {
  const fake = new FakeExecutor();
  const sink = {
    emit(event: { type: string; stage?: string }) {
      if (event.type === 'stage.finished' && event.stage === 'talks') throw new Error('database is gone');
    },
  };
  const plan = planOf([stage('talks', { env: { FAKE_OUTPUT: 'hello' } }), stage('sleeps', { env: sleep(10_000) }), stage('after', { needs: ['talks'] })]);
  await assert.rejects(runPlan({ plan, runId: 'r', executors: { fake }, defaultExecutor: 'fake', sink, concurrency: 4 }), /database is gone/);
  assert.equal(fake.jobs.length, 2);
  assert.equal(fake.destroyed.length, 2);
  assert.equal(fake.cancelled.length, 1);
});

test('the shared workspace gets the artifacts of each need once, before the first dependent starts', async () => {
  const restores: string[] = [];
  let releaseRestore!: () => void;
  const restoreGate = new Promise<void>((resolve) => (releaseRestore = resolve));
  const plan = planOf([stage('build', { artifacts: ['dist'] }), stage('test-a', { needs: ['build'] }), stage('test-b', { needs: ['build'] })]);
  const { fake, run } = setup(plan, {
    artifacts: {
      restore: async (ids) => {
        restores.push(ids.join(','));
        await restoreGate;
      },
      collect: async () => {},
    },
  });
  setTimeout(() => releaseRestore(), 30);
  const result = await run;
  assert.equal(result.status, 'succeeded');
  assert.deepEqual(restores, ['build']);
  assert.deepEqual(fake.jobs.map((job) => job.stageId).sort(), ['build', 'test-a', 'test-b']);
});

test('a plan that is not in topological order still settles every stage', async () => {
  const plan = planOf([stage('a', { env: { FAKE_EXIT_CODE: '1' } }), stage('b', { needs: ['a'] }), stage('c', { needs: ['b'] })]);
  plan.stages.reverse();
  const { sink, run } = setup(plan);
  const result = await run;
  assert.equal(result.status, 'failed');
  assert.deepEqual(
    result.stages.map((s) => [s.id, s.status]),
    [
      ['c', 'skipped'],
      ['b', 'skipped'],
      ['a', 'failed'],
    ],
  );
  assert.equal(sink.finished('c').reason, 'needs "b" was skipped');
});
