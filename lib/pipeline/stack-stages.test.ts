/** `stack` stages in the language: what they take from `defaults`, and stack names checked against the tenant's stacks. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { formatDiagnostic, loadPipeline, plan } from './index';
import { pushTrigger, readText, TESTDATA_DIR } from '../../tests/support/pipeline-fixtures';

test('a stack stage takes only timeout and allow-failure from `defaults`; container stages take everything', () => {
  const file = path.join(TESTDATA_DIR, 'ok', 'stack-stages.kdl');
  const planned = plan(loadPipeline(readText(file), file).spec!, pushTrigger());
  const view = Object.fromEntries(
    planned.stages.map((s) => [
      s.id,
      { kind: s.kind, image: s.image, executor: s.executor, retry: s.retry, timeoutMs: s.timeoutMs, env: s.env, stack: s.stack },
    ]),
  );
  assert.deepEqual(view['lint'], {
    kind: 'run',
    image: 'alpine:3.20',
    executor: 'docker',
    retry: 2,
    timeoutMs: 1_800_000,
    env: { TF_LOG: 'info' },
    stack: null,
  });
  assert.deepEqual(view['plan-network'], {
    kind: 'stack',
    image: null,
    executor: null,
    retry: 0,
    timeoutMs: 1_800_000,
    env: {},
    stack: { name: 'network', action: 'plan' },
  });
  assert.equal(view['apply-network']!.timeoutMs, 7_200_000);
  assert.deepEqual(view['apply-regions[region=eu]']!.stack, { name: 'cluster-eu', action: 'apply' });
});

const PIPELINE = `pipeline "infra"
stage "plan" { stack "netwrk"; }
stage "regional" {
    stack "cluster-\${matrix.region}" action="apply"
    matrix { region "eu"; }
}
`;

test("with the tenant's stacks known (the server), a stack stage naming another stack is an error at its name", () => {
  const { spec, diagnostics } = loadPipeline(PIPELINE, 'buildit.kdl', { stacks: ['cluster-eu', 'network'] });
  assert.equal(spec, null);
  assert.deepEqual(diagnostics.map(formatDiagnostic), [
    'buildit.kdl:2:22: error: stage "plan" names stack "netwrk", which does not exist in this tenant\n  hint: did you mean "network"?',
  ]);
  const none = loadPipeline(PIPELINE, 'buildit.kdl', { stacks: [] });
  assert.match(none.diagnostics[0]!.hint ?? '', /this tenant has no stacks yet: create it first/);
});

test('without the stacks (`buildit validate`), names are not checked; an interpolated name is checked when the stage runs', () => {
  assert.deepEqual(loadPipeline(PIPELINE, 'buildit.kdl').diagnostics, []);
  assert.deepEqual(loadPipeline(PIPELINE.replace('netwrk', 'network'), 'buildit.kdl', { stacks: ['network'] }).diagnostics, []);
});
