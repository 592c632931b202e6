/** Matrix include/exclude, max-parallel and fail-fast end to end: examples/matrix-options.kdl with `buildit run` on the real Docker engine. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerOrSkip } from '../support/engines';
import { builditRun, exampleText, scratchDir, stageLines, stageStatuses } from '../support/language-runs';

test('the combinations are the product without the excluded, plus the included; one runs at a time', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  const dir = await scratchDir(t, { 'buildit.kdl': await exampleText('matrix-options') });
  const { code, events, stderr } = await builditRun(['--event', 'push'], dir);
  assert.equal(code, 0, stderr);
  assert.deepEqual(stageStatuses(events), {
    'test[node=18,os=debian]': 'succeeded',
    'test[node=20,os=debian]': 'succeeded',
    'test[node=20,os=alpine]': 'succeeded',
    'test[node=23,os=debian]': 'succeeded',
  });
  assert.deepEqual(stageLines(events, 'test[node=23,os=debian]'), ['testing on node 23, debian']);
  let running = 0;
  let most = 0;
  for (const event of events) {
    if (event.type === 'stage.started') most = Math.max(most, ++running);
    if (event.type === 'stage.finished' && event.attempt > 0) running--;
  }
  assert.equal(most, 1);
});

test('fail-fast: the first failed combination cancels the others', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  const kdl = (await exampleText('matrix-options')).replace(
    'run "echo \\"testing on node ${matrix.node}, ${matrix.os}\\""',
    'run "test \\"${matrix.node}\\" != 18 || exit 1; sleep 30"',
  );
  const dir = await scratchDir(t, { 'buildit.kdl': kdl });
  const started = Date.now();
  const { code, events } = await builditRun(['--event', 'push'], dir);
  assert.equal(code, 1);
  assert.ok(Date.now() - started < 25_000, 'the sleeping combinations were cancelled');
  const statuses = stageStatuses(events);
  assert.equal(statuses['test[node=18,os=debian]'], 'failed');
  for (const id of ['test[node=20,os=debian]', 'test[node=20,os=alpine]', 'test[node=23,os=debian]']) assert.equal(statuses[id], 'cancelled', id);
});
