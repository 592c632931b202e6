/** `when status="failure"|"always"`: orchestrator policy on the FakeExecutor (end-to-end runs are in cli/run-language.test.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planOf, runOnFake, stage } from '../../../tests/support/plans';

const run = runOnFake;

const fails = { FAKE_EXIT_CODE: '1' };

function statuses(stages: Array<{ id: string; status: string }>): Record<string, string> {
  return Object.fromEntries(stages.map((s) => [s.id, s.status]));
}

test('a failed deploy runs its failure notifier and its always cleanup, and nothing else', async () => {
  const { result } = run(
    planOf([
      stage('build'),
      stage('deploy', { needs: ['build'], env: fails }),
      stage('smoke', { needs: ['deploy'] }),
      stage('notify', { needs: ['deploy'], runOn: 'failure' }),
      stage('cleanup', { needs: ['deploy'], runOn: 'always' }),
    ]),
  );
  const { status, stages } = await result;
  assert.equal(status, 'failed');
  assert.deepEqual(statuses(stages), { build: 'succeeded', deploy: 'failed', smoke: 'skipped', notify: 'succeeded', cleanup: 'succeeded' });
});

test('a successful run skips the failure stage with the reason and still runs the always stage', async () => {
  const { result } = run(
    planOf([stage('deploy'), stage('notify', { needs: ['deploy'], runOn: 'failure' }), stage('cleanup', { needs: ['deploy'], runOn: 'always' })]),
  );
  const { status, stages } = await result;
  assert.equal(status, 'succeeded');
  assert.deepEqual(statuses(stages), { deploy: 'succeeded', notify: 'skipped', cleanup: 'succeeded' });
  assert.equal(stages[1]!.reason, 'when status="failure": nothing it needs failed');
});

test('a failure further up counts: the need was skipped because its own need failed', async () => {
  const { result } = run(
    planOf([stage('build', { env: fails }), stage('deploy', { needs: ['build'] }), stage('rollback', { needs: ['deploy'], runOn: 'failure' })]),
  );
  assert.deepEqual(statuses((await result).stages), { build: 'failed', deploy: 'skipped', rollback: 'succeeded' });
});

test('an allowed failure is not a failure for status="failure"', async () => {
  const { result } = run(planOf([stage('lint', { env: fails, allowFailure: true }), stage('notify', { needs: ['lint'], runOn: 'failure' })]));
  assert.deepEqual(statuses((await result).stages), { lint: 'failed', notify: 'skipped' });
});

test('always and failure stages wait for every need, even after one failed', async () => {
  const { sink, result } = run(
    planOf([stage('fast', { env: fails }), stage('slow', { env: { FAKE_SLEEP_MS: '150' } }), stage('report', { needs: ['fast', 'slow'], runOn: 'always' })]),
  );
  await result;
  assert.ok(sink.indexOf('stage.finished', 'slow') < sink.indexOf('stage.started', 'report'));
});

test('a cancelled run still runs its always stage within the grace period, and says so', async () => {
  const cancel = new AbortController();
  const { sink, result } = run(
    planOf([
      stage('deploy', { env: { FAKE_SLEEP_MS: '5000' } }),
      stage('next', { needs: ['deploy'] }),
      stage('cleanup', { needs: ['deploy'], runOn: 'always', env: { FAKE_OUTPUT: 'cleaning up' } }),
    ]),
    { signal: cancel.signal, alwaysGraceMs: 2000 },
  );
  setTimeout(() => cancel.abort(), 100);
  const { status, stages } = await result;
  assert.equal(status, 'cancelled');
  assert.deepEqual(statuses(stages), { deploy: 'cancelled', next: 'cancelled', cleanup: 'succeeded' });
  const lines = sink.of('stage.log', 'cleanup').map((e) => e.line);
  assert.match(lines[0]!, /^the run stopped \(run cancelled\); this stage runs anyway \(when status="always"\), within a grace period of 2s$/);
  assert.ok(lines.includes('cleaning up'));
});

test('an always stage that outlives the grace period is cancelled with the reason', async () => {
  const cancel = new AbortController();
  const { result } = run(
    planOf([stage('deploy', { env: { FAKE_SLEEP_MS: '5000' } }), stage('cleanup', { needs: ['deploy'], runOn: 'always', env: { FAKE_SLEEP_MS: '5000' } })]),
    {
      signal: cancel.signal,
      alwaysGraceMs: 200,
    },
  );
  setTimeout(() => cancel.abort(), 50);
  const started = Date.now();
  const { stages } = await result;
  assert.ok(Date.now() - started < 3000, 'the grace period bounds the run');
  assert.equal(stages[1]!.status, 'cancelled');
  assert.match(stages[1]!.reason ?? '', /grace period of `always` stages \(200ms\) ran out/);
});
