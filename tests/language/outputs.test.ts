/** Stage outputs end to end: examples/outputs.kdl with `buildit run` on the real Docker engine, and on the host. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerOrSkip } from '../support/engines';
import { builditRun, exampleText, scratchDir, stageLines, stageStatuses } from '../support/language-runs';

test('an output flows from producer to consumer: env value and run script', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  const dir = await scratchDir(t, { 'buildit.kdl': await exampleText('outputs') });
  const { code, events, stderr } = await builditRun(['--event', 'push', '--sha', '0123456789abcdef'], dir);
  assert.equal(code, 0, stderr);
  assert.deepEqual(stageStatuses(events), { version: 'succeeded', 'release-notes': 'succeeded' });
  const finished = events.find((e) => e.type === 'stage.finished' && e.stage === 'version');
  assert.ok(finished?.type === 'stage.finished');
  assert.deepEqual(finished.outputs, { VERSION: '1.4.1', IMAGE: 'registry.example.com/app:0123456' });
  assert.deepEqual(stageLines(events, 'release-notes'), ['Release 1.4.1 ships registry.example.com/app:0123456']);
});

test('an output is data in the consumer script, never code; undeclared names are ignored and said so', async (t) => {
  const dir = await scratchDir(t, {
    'buildit.kdl': `
pipeline "p"
stage "produce" {
    executor "local"
    outputs "VALUE"
    run "echo 'VALUE=$(echo injected); touch pwned' >> \\"$BUILDIT_OUTPUT\\"; echo OTHER=1 >> \\"$BUILDIT_OUTPUT\\""
}
stage "consume" needs="produce" {
    executor "local"
    run "echo \\"got \${needs.produce.outputs.VALUE}\\""
}
`,
  });
  const { code, events, stderr } = await builditRun(['--event', 'manual', '--workspace', dir], dir);
  assert.equal(code, 0, stderr);
  assert.deepEqual(stageLines(events, 'consume'), ['got $(echo injected); touch pwned']);
  assert.ok(stageLines(events, 'produce').includes('ignored outputs the stage does not declare: OTHER'));
});

test('a malformed output file fails the producer with the reason, and its dependents are skipped', async (t) => {
  const dir = await scratchDir(t, {
    'buildit.kdl': `
pipeline "p"
stage "produce" {
    executor "local"
    outputs "VALUE"
    run "echo 'no equals sign' >> \\"$BUILDIT_OUTPUT\\""
}
stage "consume" needs="produce" {
    executor "local"
    run "echo \\"\${needs.produce.outputs.VALUE}\\""
}
`,
  });
  const { code, events } = await builditRun(['--event', 'manual', '--workspace', dir], dir);
  assert.equal(code, 1);
  assert.deepEqual(stageStatuses(events), { produce: 'failed', consume: 'skipped' });
  const finished = events.find((e) => e.type === 'stage.finished' && e.stage === 'produce');
  assert.match(finished?.type === 'stage.finished' ? (finished.reason ?? '') : '', /line that is not NAME=value: "no equals sign"/);
});

test('`when` on an output: the consumer runs or is skipped depending on what the producer wrote', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  const dir = await scratchDir(t, { 'buildit.kdl': await exampleText('output-conditions') });
  const release = await builditRun(['--event', 'push'], dir);
  assert.equal(release.code, 0, release.stderr);
  assert.deepEqual(stageStatuses(release.events), { check: 'succeeded', publish: 'succeeded', 'up-to-date': 'skipped' });
  assert.deepEqual(stageLines(release.events, 'publish'), ['publishing 1.5.0']);
  const skipped = release.events.find((e) => e.type === 'stage.finished' && e.stage === 'up-to-date');
  assert.equal(skipped?.type === 'stage.finished' ? skipped.reason : null, 'when needs.check.outputs.RELEASE="no" does not match "yes"');

  const published = await builditRun(['--event', 'push', '--var', 'version=1.4.0'], dir);
  assert.equal(published.code, 0, published.stderr);
  assert.deepEqual(stageStatuses(published.events), { check: 'succeeded', publish: 'skipped', 'up-to-date': 'succeeded' });
  assert.deepEqual(stageLines(published.events, 'up-to-date'), ['1.4.0 is already published']);
});
