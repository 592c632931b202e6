import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration } from './duration';
import { selectStages, UnknownStageError } from './select';
import { planOf, stage } from '../../../tests/support/plans';

const plan = planOf([
  stage('lint'),
  stage('build', { needs: ['lint'] }),
  stage('test[node=18]', { name: 'test', needs: ['build'] }),
  stage('test[node=20]', { name: 'test', needs: ['build'] }),
  stage('docs'),
]);

test('--only keeps the named stages and their needs, transitively, in plan order', () => {
  const selected = selectStages(plan, ['test[node=20]']);
  assert.deepEqual(
    selected.stages.map((s) => s.id),
    ['lint', 'build', 'test[node=20]'],
  );
  assert.deepEqual(selected.levels, [['lint'], ['build'], ['test[node=20]']]);
});

test('--only with a stage name selects every matrix combination', () => {
  assert.deepEqual(
    selectStages(plan, ['test', 'docs']).stages.map((s) => s.id),
    ['lint', 'build', 'test[node=18]', 'test[node=20]', 'docs'],
  );
});

test('--only with an unknown stage names the known ones', () => {
  assert.throws(
    () => selectStages(plan, ['deploy']),
    (error: Error) => error instanceof UnknownStageError && /no stage "deploy".*lint, build, test, docs/.test(error.message),
  );
});

test('formatDuration is exact and short', () => {
  assert.deepEqual([0, 500, 1500, 90_000, 600_000, 3_600_000, 5_400_000].map(formatDuration), ['0ms', '500ms', '1s500ms', '1m30s', '10m', '1h', '1h30m']);
});
