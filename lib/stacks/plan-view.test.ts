/** planView over `terraform show -json` shapes (format 1.2): actions, replace reasons, masking, unknowns. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planView } from './plan-view';

const plan = {
  format_version: '1.2',
  resource_changes: [
    {
      address: 'terraform_data.kept',
      type: 'terraform_data',
      name: 'kept',
      change: { actions: ['no-op'], before: { input: 'a' }, after: { input: 'a' } },
    },
    {
      address: 'terraform_data.new',
      type: 'terraform_data',
      name: 'new',
      change: {
        actions: ['create'],
        before: null,
        after: { input: 'x', secret: 'hunter2' },
        after_unknown: { id: true, output: true },
        before_sensitive: false,
        after_sensitive: { secret: true },
      },
    },
    {
      address: 'terraform_data.moved',
      type: 'terraform_data',
      name: 'moved',
      action_reason: 'replace_because_cannot_update',
      change: {
        actions: ['delete', 'create'],
        before: { triggers_replace: '1', id: 'abc' },
        after: { triggers_replace: '2' },
        after_unknown: { id: true },
        before_sensitive: {},
        after_sensitive: {},
        replace_paths: [['triggers_replace']],
      },
    },
    { address: 'terraform_data.gone', type: 'terraform_data', name: 'gone', change: { actions: ['delete'], before: { input: 'old' }, after: null } },
  ],
  output_changes: {
    token: { actions: ['create'], before: null, after: 'hunter2', after_unknown: false, before_sensitive: false, after_sensitive: true },
    plain: { actions: ['update'], before: 'a', after: 'b', after_unknown: false, before_sensitive: false, after_sensitive: false },
  },
};

test('resources grouped by action (replace, delete, create), no-ops left out, with the change summary', () => {
  const view = planView(plan);
  assert.deepEqual(
    view.resources.map((r) => [r.address, r.action]),
    [
      ['terraform_data.moved', 'replace'],
      ['terraform_data.gone', 'delete'],
      ['terraform_data.new', 'create'],
    ],
  );
  assert.deepEqual(view.summary, { add: 1, change: 0, destroy: 1, replace: 1 });
});

test('sensitive attributes and outputs are masked; unknown values and replacement causes are marked', () => {
  const view = planView(plan);
  const created = view.resources.find((r) => r.address === 'terraform_data.new')!;
  assert.deepEqual(
    created.changes.find((c) => c.path === 'secret'),
    { path: 'secret', before: null, after: null, sensitive: true, unknownAfter: false, forcesReplacement: false },
  );
  assert.deepEqual(
    created.changes.find((c) => c.path === 'output'),
    { path: 'output', before: null, after: null, sensitive: false, unknownAfter: true, forcesReplacement: false },
  );
  const replaced = view.resources.find((r) => r.address === 'terraform_data.moved')!;
  assert.equal(replaced.reason, 'replace_because_cannot_update');
  assert.deepEqual(
    replaced.changes.find((c) => c.path === 'triggers_replace'),
    {
      path: 'triggers_replace',
      before: '1',
      after: '2',
      sensitive: false,
      unknownAfter: false,
      forcesReplacement: true,
    },
  );
  assert.ok(!JSON.stringify(view).includes('hunter2'), 'no sensitive value in the view');
  assert.deepEqual(
    view.outputs.find((o) => o.name === 'token'),
    { name: 'token', action: 'create', before: null, after: null, sensitive: true, unknownAfter: false },
  );
  assert.deepEqual(view.outputs.find((o) => o.name === 'plain')?.after, 'b');
});
