/**
 * Orchestrator policies of `stack` stages, on the FakeExecutor and an in-test StackStageRunner (the server's,
 * with the real database and terraform, is covered end to end in tests/stacks/pipeline-stage.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planOf, runOnFake, stage } from '../../../tests/support/plans';
import { noStackRunnerReason } from './stack-stage';
import type { StackStageRequest, StackStageRunner } from './types';

const network = { name: 'network', action: 'apply' };
const stackStage = (id: string, fields: Parameters<typeof stage>[1] = {}) => stage(id, { kind: 'stack', commands: [], stack: network, ...fields });

const run = (stages: ReturnType<typeof stage>[], stacks?: StackStageRunner, signal?: AbortSignal) =>
  runOnFake(planOf(stages), { concurrency: 1, ...(stacks ? { stacks } : {}), ...(signal ? { signal } : {}) });

/** Waits until the stage is stopped and reports the reason it was given. */
function waitForStop(seen: StackStageRequest[]): StackStageRunner {
  return (request) => {
    seen.push(request);
    return new Promise((resolve) => request.signal.addEventListener('abort', () => resolve({ status: 'cancelled' }), { once: true }));
  };
}

test('without a stack runner (`buildit run`) a stack stage fails saying it runs only on a server; its dependents are skipped', async () => {
  const { sink, result } = run([stackStage('infra'), stage('smoke', { needs: ['infra'] })]);
  const outcome = await result;
  assert.equal(outcome.status, 'failed');
  const [infra, smoke] = outcome.stages;
  assert.equal(infra!.status, 'failed');
  assert.equal(infra!.reason, noStackRunnerReason(network));
  assert.match(infra!.reason!, /^stack stages run only on a BuildIt server: `buildit run` cannot apply stack "network" here/);
  assert.deepEqual([smoke!.status, smoke!.reason], ['skipped', 'needs "infra" failed']);
  assert.equal(sink.of('stage.started', 'infra')[0]?.executor, 'stack');
  assert.deepEqual(
    sink.of('stage.log', 'infra').map((e) => e.line),
    [infra!.reason],
  );
});

test('a waiting stack stage holds no slot: with concurrency 1 a container stage runs meanwhile; its lines are the stage log', async () => {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const stacks: StackStageRunner = async (request) => {
    await request.log('plan: 1 to add, 0 to change, 0 to destroy, 0 to replace');
    await released;
    return { status: 'succeeded' };
  };
  const { sink, result } = run([stackStage('infra'), stage('build', { env: { FAKE_OUTPUT: 'built' } })], stacks);
  // `build` can finish only while `infra` waits: it is what lets the runner answer.
  const waitForBuild = setInterval(() => {
    if (sink.indexOf('stage.finished', 'build') !== -1) release();
  }, 5);
  const outcome = await result;
  clearInterval(waitForBuild);
  assert.equal(outcome.status, 'succeeded');
  assert.deepEqual(
    sink.of('stage.log', 'infra').map((e) => [e.stream, e.line]),
    [['stdout', 'plan: 1 to add, 0 to change, 0 to destroy, 0 to replace']],
  );
});

test("cancelling the run stops the stack stage's wait (the runner cancels its stack run); the stage is cancelled", async () => {
  const seen: StackStageRequest[] = [];
  const cancel = new AbortController();
  const { result } = run([stackStage('infra')], waitForStop(seen), cancel.signal);
  while (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  cancel.abort();
  const outcome = await result;
  assert.equal(outcome.status, 'cancelled');
  assert.deepEqual([outcome.stages[0]!.status, outcome.stages[0]!.reason], ['cancelled', 'run cancelled']);
});

test("a stack stage's timeout stops its wait and fails it", async () => {
  const seen: StackStageRequest[] = [];
  const { result } = run([stackStage('infra', { timeoutMs: 50 })], waitForStop(seen));
  const outcome = await result;
  assert.equal(seen.length, 1);
  assert.equal(outcome.status, 'failed');
  assert.deepEqual([outcome.stages[0]!.status, outcome.stages[0]!.reason], ['failed', 'timed out after 50ms']);
});
