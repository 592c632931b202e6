/** `when status=...` end to end: examples/status-conditions.kdl with `buildit run` on the real Docker engine. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerOrSkip } from '../support/engines';
import { builditRun, exampleText, scratchDir, stageLines, stageStatuses } from '../support/language-runs';

test('a failing deploy runs its status="failure" notifier and its always cleanup, and nothing else', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  const dir = await scratchDir(t, { 'buildit.kdl': await exampleText('status-conditions') });
  const { code, events, stderr } = await builditRun(['--event', 'push', '--var', 'break=yes'], dir);
  assert.equal(code, 1, stderr);
  assert.deepEqual(stageStatuses(events), { deploy: 'failed', 'smoke-test': 'skipped', notify: 'succeeded', cleanup: 'succeeded' });
  assert.ok(stageLines(events, 'notify').includes('the deploy failed: paging the on-call'));
});

test('a successful deploy skips the notifier and still cleans up', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  const dir = await scratchDir(t, { 'buildit.kdl': await exampleText('status-conditions') });
  const { code, events, stderr } = await builditRun(['--event', 'push'], dir);
  assert.equal(code, 0, stderr);
  assert.deepEqual(stageStatuses(events), { deploy: 'succeeded', 'smoke-test': 'succeeded', notify: 'skipped', cleanup: 'succeeded' });
});
