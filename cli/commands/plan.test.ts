/** `buildit plan`: text and JSON output, not-triggered plans, invalid pipelines and usage errors. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function buildit(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'cli/bin.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('prints stages by level with needs and skips', () => {
  const result = buildit(['plan', 'examples/release.kdl', '--branch', 'main', '--sha', '0123456789abcdef']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    result.stdout,
    [
      'pipeline release',
      'level 0:',
      '  image: build',
      'level 1:',
      '  smoke: run in registry.local/shop:0123456 (needs image)',
      'level 2:',
      '  staging: deploy (needs smoke)',
      '  deploy-custom: deploy (needs smoke) — skipped: when event="manual" does not match event "push"',
      'level 3:',
      '  production: deploy (needs staging) [approval]',
      '5 stages, 1 skipped',
      '',
    ].join('\n'),
  );
});

test('a `when` on an output is shown as tested when the stage starts', () => {
  const result = buildit(['plan', 'examples/output-conditions.kdl', '--branch', 'main']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /\n {2}publish: run in alpine:3\.20 \(needs check\) — runs if needs\.check\.outputs\.RELEASE="yes", tested when it starts\n/);
});

test('a trigger that does not match prints the reason and exits 0', () => {
  const result = buildit(['plan', 'examples/node-app.kdl', '--branch', 'feature/x']);
  assert.equal(result.code, 0);
  assert.equal(result.stdout, 'pipeline node-app\nnot triggered: branch "feature/x" does not match the `on "push"` branch filter "main"\n');
});

test('--format json prints the ExecutionPlan with run id "local" and number 1 by default', () => {
  const result = buildit(['plan', 'examples/minimal.kdl', '--format', 'json', '--event', 'manual', '--branch', 'dev']);
  assert.equal(result.code, 0, result.stderr);
  const plan = JSON.parse(result.stdout);
  assert.deepEqual(Object.keys(plan), ['pipeline', 'concurrency', 'timeoutMs', 'triggered', 'notTriggeredReason', 'stages', 'levels']);
  assert.deepEqual(plan.levels, [['greet']]);
  assert.deepEqual(plan.stages[0].commands, ['echo hello from ${BUILDIT_PIPELINE} run ${BUILDIT_RUN_NUMBER} on ${BUILDIT_GIT_BRANCH}']);
  assert.deepEqual(plan.stages[0].env, { BUILDIT_PIPELINE: 'hello', BUILDIT_RUN_NUMBER: '1', BUILDIT_GIT_BRANCH: 'dev' });
});

test('--var, --run-id and --run-number reach the plan', () => {
  const result = buildit(['plan', 'examples/local.kdl', '--event', 'manual', '--var', 'target=docs', '--run-number', '7', '--format', 'json']);
  assert.equal(result.code, 0, result.stderr);
  const [stage] = JSON.parse(result.stdout).stages;
  assert.deepEqual(stage.commands, ['make check TARGET=${BUILDIT_VAR_target}']);
  assert.equal(stage.env.BUILDIT_VAR_target, 'docs');
});

test('an unknown variable exits 1 with the planning error', () => {
  const result = buildit(['plan', 'examples/local.kdl', '--event', 'manual', '--var', 'targte=x']);
  assert.equal(result.code, 1);
  assert.equal(result.stderr, 'examples/local.kdl: error: unknown variable "targte" (declared: target); did you mean "target"?\n');
});

test('an invalid pipeline prints diagnostics on stderr and exits 1', () => {
  const result = buildit(['plan', 'lib/pipeline/testdata/err/cycle-self.kdl']);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^lib\/pipeline\/testdata\/err\/cycle-self\.kdl:2:17: error: dependency cycle: a -> a\n/);
});

test('usage errors exit 2', () => {
  const typo = buildit(['plan', 'examples/minimal.kdl', '--event', 'tags']);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /expected one of push, tag, pull_request, schedule, manual/);
  assert.equal(buildit(['plan']).code, 2);
  assert.equal(buildit(['plan', 'missing.kdl']).code, 2);
});

const TAG_PIPELINE = `pipeline "rel" {
    on "push" branches="main"
    on "tag" tags="v*"
}
stage "lint" { image "alpine"; run "lint"; when branch="main"; }
stage "publish" {
    needs "lint" optional=#true
    image "alpine"
    run "publish \\"\${git.tag}\\""
    when tag="v*"
}
`;

function withPipeline(t: TestContext, text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'buildit-plan-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'rel.kdl'), text);
  return path.join(dir, 'rel.kdl');
}

test('--event tag --tag plans a tag trigger: tag filters, `when tag=`, `${git.tag}` and optional needs', (t) => {
  const file = withPipeline(t, TAG_PIPELINE);
  const tagged = buildit(['plan', file, '--event', 'tag', '--tag', 'v1.2.0']);
  assert.equal(tagged.code, 0, tagged.stderr);
  assert.equal(
    tagged.stdout,
    [
      'pipeline rel',
      'level 0:',
      '  lint: run in alpine — skipped: when branch="main": the trigger has no branch',
      '  publish: run in alpine',
      '2 stages, 1 skipped',
      '',
    ].join('\n'),
  );
  const json = JSON.parse(buildit(['plan', file, '--event', 'tag', '--tag', 'v1.2.0', '--format', 'json']).stdout);
  const publish = json.stages.find((stage: { id: string }) => stage.id === 'publish');
  assert.deepEqual(publish.commands, ['publish "${BUILDIT_GIT_TAG}"']);
  assert.deepEqual(publish.env, { BUILDIT_GIT_TAG: 'v1.2.0' });
  const onMain = buildit(['plan', file, '--branch', 'main']);
  assert.match(onMain.stdout, /publish: run in alpine \(needs optional lint\) — skipped: when tag="v\*": the trigger has no tag/);
  const other = buildit(['plan', file, '--event', 'tag', '--tag', 'nightly']);
  assert.equal(other.code, 0);
  assert.equal(other.stdout, 'pipeline rel\nnot triggered: tag "nightly" does not match the `on "tag"` tag filter "v*"\n');
});

test('--event tag without --tag exits 1 with the planning error', (t) => {
  const file = withPipeline(t, TAG_PIPELINE);
  const result = buildit(['plan', file, '--event', 'tag']);
  assert.equal(result.code, 1);
  assert.equal(result.stderr, `${file}: error: the event "tag" needs the tag that was pushed (e.g. --tag v1.2.0)\n`);
});
