/** Stage locks within one run (RunLocks, what `buildit run` uses): the orchestrator's policy on the FakeExecutor. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeExecutor } from '../../../tests/support/fake-executor';
import { planOf, RecordingSink, runOnFake, stage } from '../../../tests/support/plans';
import { runPlan } from './run-plan';

const slow = { FAKE_SLEEP_MS: '150' };

const run = (stages: Parameters<typeof planOf>[0], signal?: AbortSignal) => runOnFake(planOf(stages), signal ? { signal } : {});

/** [started, finished] event times of a stage, in ms. */
function span(sink: RecordingSink, id: string): [number, number] {
  return [Date.parse(sink.of('stage.started', id)[0]!.time), Date.parse(sink.finished(id).time)];
}

test('stages of one run that share a lock run one at a time, in order, the others in parallel', async () => {
  const { sink, result } = run([
    stage('a', { lock: 'prod', env: slow }),
    stage('b', { lock: 'prod', env: slow }),
    stage('c', { lock: 'prod', env: slow }),
    stage('free', { env: slow }),
  ]);
  assert.equal((await result).status, 'succeeded');
  const [a, b, c, free] = ['a', 'b', 'c', 'free'].map((id) => span(sink, id)) as Array<[number, number]>;
  assert.ok(a[1] <= b[0] && b[1] <= c[0], `lock holders overlap: a ${a}, b ${b}, c ${c}`);
  assert.ok(free[0] < a[1], 'the stage without the lock did not wait for it');
  const waiting = sink.of('stage.waiting_lock', 'b');
  assert.deepEqual(
    waiting.map((e) => [e.lock, e.holder]),
    [['prod', { runId: 'run-1', stage: 'a' }]],
  );
  assert.ok(sink.indexOf('stage.waiting_lock', 'b') < sink.indexOf('stage.started', 'b'));
  assert.equal(sink.of('stage.waiting_lock', 'a').length, 0, 'the first one did not wait');
});

test('different lock names do not wait for each other', async () => {
  const { sink, result } = run([stage('a', { lock: 'eu', env: slow }), stage('b', { lock: 'us', env: slow })]);
  await result;
  assert.ok(span(sink, 'b')[0] < span(sink, 'a')[1]);
  assert.equal(sink.of('stage.waiting_lock').length, 0);
});

test('a cancel while a stage waits for its lock: it never starts and says so', async () => {
  const cancel = new AbortController();
  const { sink, result } = run([stage('a', { lock: 'prod', env: { FAKE_SLEEP_MS: '5000' } }), stage('b', { lock: 'prod' })], cancel.signal);
  while (sink.of('stage.waiting_lock', 'b').length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  cancel.abort();
  const { status, stages } = await result;
  assert.equal(status, 'cancelled');
  assert.equal(stages[1]!.status, 'cancelled');
  assert.equal(stages[1]!.reason, 'not started: run cancelled (while waiting for its lock)');
  assert.equal(sink.of('stage.started', 'b').length, 0);
});

test('a resumed stage whose lock was taken meanwhile is stopped and fails, with the reason', async () => {
  const executor = new FakeExecutor();
  const plan = planOf([stage('deploy', { lock: 'prod' })]);
  // The work a stopped worker left running.
  const handle = await executor.spawn({
    runId: 'run-1',
    stageId: 'deploy',
    attempt: 1,
    image: null,
    commands: [],
    services: [],
    mounts: [],
    env: { FAKE_SLEEP_MS: '10000' },
    labels: {},
  });
  const lost = 'lost lock "prod": the worker running this stage stopped, its lease expired and stage "deploy" of run #2 took it';
  const sink = new RecordingSink();
  const result = await runPlan({
    plan,
    runId: 'run-1',
    executors: { fake: executor },
    defaultExecutor: 'fake',
    sink,
    resume: { deploy: { state: 'running', attempt: 1, handle, skipLines: 0, retryLost: false } },
    locks: {
      acquire: () => Promise.reject(new Error('a resumed stage does not ask again')),
      resume: async () => ({ lost }),
    },
  });
  assert.deepEqual([result.status, result.stages[0]!.status, result.stages[0]!.reason], ['failed', 'failed', lost]);
  assert.deepEqual(executor.cancelled, [handle.id], 'its work was stopped');
});
