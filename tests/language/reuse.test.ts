/** `include`, `template` + `extends`, `defaults` end to end: `buildit plan` and `buildit run` on the examples (real Docker engine). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { dockerOrSkip } from '../support/engines';
import { EXAMPLES_DIR } from '../support/pipeline-fixtures';
import { builditRun, exampleText, scratchDir, stageLines, stageStatuses } from '../support/language-runs';

const BIN = path.resolve(import.meta.dirname, '..', '..', 'cli', 'bin.mjs');

function planJson(file: string): string {
  const result = spawnSync(process.execPath, [BIN, 'plan', file, '--format', 'json', '--branch', 'main', '--sha', '0123456789abcdef'], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

test('buildit plan: include + extends give the same plan as the expanded file', () => {
  const included = planJson(path.join(EXAMPLES_DIR, 'include', 'buildit.kdl'));
  assert.equal(included, planJson(path.join(EXAMPLES_DIR, 'include', 'expanded.kdl')));
  assert.match(included, /linting for/);
});

test('buildit run: an included stage and a stage extending an included template run with the template env', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  const dir = await scratchDir(t, {
    'buildit.kdl': await exampleText('include/buildit'),
    'ci/common.kdl': await exampleText('include/ci/common'),
  });
  const { code, events, stderr } = await builditRun(['--event', 'push'], dir);
  assert.equal(code, 0, stderr);
  assert.deepEqual(stageStatuses(events), { lint: 'succeeded', test: 'succeeded' });
  assert.deepEqual(stageLines(events, 'test'), ['testing against registry.example.com']);
});

test('buildit run: defaults and template env, the stage own values winning', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  const dir = await scratchDir(t, { 'buildit.kdl': await exampleText('templates') });
  const { code, events, stderr } = await builditRun(['--event', 'push'], dir);
  assert.equal(code, 0, stderr);
  assert.deepEqual(stageLines(events, 'lint'), ['hello from lint (info)']);
  assert.deepEqual(stageLines(events, 'test'), ['hello from test (debug)']);
});
