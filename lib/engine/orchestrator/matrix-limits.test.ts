/** A matrix's `max-parallel` and `fail-fast`: orchestrator policy on the FakeExecutor (end to end: tests/language/matrix.test.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planOf, runOnFake, stage } from '../../../tests/support/plans';
import type { PlannedStage } from '../../pipeline/plan-types';

function combination(node: string, fields: Partial<PlannedStage>): PlannedStage {
  return stage(`test[node=${node}]`, { name: 'test', matrix: { node }, ...fields });
}

const run = (stages: PlannedStage[]) => runOnFake(planOf(stages), { concurrency: 8 });

test('max-parallel caps the combinations running at once, not other stages', async () => {
  const limits = { maxParallel: 2 };
  const { sink, result } = run([
    ...['16', '18', '20', '22'].map((node) => combination(node, { matrixLimits: limits, env: { FAKE_SLEEP_MS: '60' } })),
    stage('lint', { env: { FAKE_SLEEP_MS: '60' } }),
  ]);
  assert.equal((await result).status, 'succeeded');
  assert.equal(sink.maxRunning(), 3, 'two combinations and lint');
});

test('fail-fast: a failed combination cancels the running and the waiting others, with the reason', async () => {
  const limits = { failFast: true as const, maxParallel: 2 };
  const { result } = run([
    combination('16', { matrixLimits: limits, env: { FAKE_EXIT_CODE: '1', FAKE_SLEEP_MS: '50' } }),
    combination('18', { matrixLimits: limits, env: { FAKE_SLEEP_MS: '5000' } }),
    combination('20', { matrixLimits: limits }),
    stage('other', { env: { FAKE_SLEEP_MS: '100' } }),
  ]);
  const { status, stages } = await result;
  assert.equal(status, 'failed');
  assert.deepEqual(
    stages.map((s) => [s.id, s.status]),
    [
      ['test[node=16]', 'failed'],
      ['test[node=18]', 'cancelled'],
      ['test[node=20]', 'cancelled'],
      ['other', 'succeeded'],
    ],
  );
  assert.equal(stages[2]!.reason, 'cancelled: combination "test[node=16]" failed (fail-fast)');
});

test('without fail-fast the other combinations go on', async () => {
  const { result } = run([combination('16', { env: { FAKE_EXIT_CODE: '1' } }), combination('18', { env: { FAKE_SLEEP_MS: '50' } })]);
  assert.deepEqual(
    (await result).stages.map((s) => s.status),
    ['failed', 'succeeded'],
  );
});
