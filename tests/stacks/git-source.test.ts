/**
 * A stack whose configuration lives in a git repository (repository + ref + path), with the real git and
 * terraform: a repository on disk (file://) holding a `terraform_data` configuration in a subdirectory is
 * planned through the API, approved and applied, its outputs stored; a new commit that changes an output is
 * seen by the next plan. A missing branch or a missing directory ends the run errored, saying what to fix.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { commitFiles, createRepository } from '../checkout/support';
import { api, useStackWorld, waitForRun } from './support';
import { terraformOrSkip } from './terraform';

process.env.BUILDIT_SECRET_KEY = randomBytes(32).toString('base64');
// file:// repositories read the host's files: off unless an operator turns them on.
process.env.BUILDIT_FILE_REPOSITORIES = 'on';

const repoDir = path.join(mkdtempSync(path.join(tmpdir(), 'buildit-stack-git-')), 'infra');
const repository = `file://${repoDir}`;

/** The configuration in `infra/network/`: one resource and an output that reads it. */
const configuration = (label: string) => `
resource "terraform_data" "thing" {
  input = "${label}"
}

output "label" {
  value = terraform_data.thing.input
}
`;

const world = useStackWorld();

const admin = () => world.world.adminA.token;

async function createStack(name: string, settings: { ref?: string; path?: string }): Promise<string> {
  const created = await api('POST', '/api/v1/tenants/{tenantId}/stacks', admin(), { tenantId: world.world.tenantA }, { name, repository, ...settings });
  assert.equal(created.status, 201, created.text);
  return (created.body as { id: string }).id;
}

async function plan(stackId: string) {
  const created = await api('POST', '/api/v1/stacks/{stackId}/runs', admin(), { stackId }, { kind: 'apply' });
  assert.equal(created.status, 201, created.text);
  return (created.body as { id: string }).id;
}

interface Run {
  status: string;
  reason: string | null;
  commitSha: string | null;
  outputs: Record<string, { sensitive: boolean; value?: unknown }> | null;
  plan: { outputs: Array<{ name: string; before: unknown; after: unknown }> } | null;
}

test('a stack read from a git repository: plan, approve, apply, then a new commit is planned', async (t) => {
  if (!terraformOrSkip(t)) return;
  const first = createRepository(repoDir, { 'README.md': 'infrastructure\n', 'network/main.tf': configuration('one') });
  const stackId = await createStack('Network', { ref: 'main', path: 'network' });

  const runId = await plan(stackId);
  const planned = (await waitForRun(admin(), runId, ['planned', 'errored'])) as unknown as Run;
  assert.equal(planned.status, 'planned', planned.reason ?? '');
  assert.equal(planned.commitSha, first, 'the run planned the branch head');
  assert.deepEqual(
    planned.plan?.outputs.map((o) => [o.name, o.after]),
    [['label', 'one']],
  );
  const approved = await api('POST', '/api/v1/stack-runs/{stackRunId}/approve', admin(), { stackRunId: runId });
  assert.equal(approved.status, 200, approved.text);
  const applied = (await waitForRun(admin(), runId, ['applied', 'errored'])) as unknown as Run;
  assert.equal(applied.status, 'applied', applied.reason ?? '');
  assert.deepEqual(applied.outputs, { label: { sensitive: false, value: 'one' } });
  const stack = (await api('GET', '/api/v1/stacks/{stackId}', admin(), { stackId })).body as { outputs: unknown };
  assert.deepEqual(stack.outputs, { label: { sensitive: false, value: 'one' } });

  // A new commit on the branch: the next plan checks it out and shows the output's change.
  const second = commitFiles(repoDir, { 'network/main.tf': configuration('two') }, 'label two');
  const nextId = await plan(stackId);
  const next = (await waitForRun(admin(), nextId, ['planned', 'errored'])) as unknown as Run;
  assert.equal(next.status, 'planned', next.reason ?? '');
  assert.equal(next.commitSha, second);
  assert.deepEqual(
    next.plan?.outputs.map((o) => [o.name, o.before, o.after]),
    [['label', 'one', 'two']],
  );
  assert.equal((await api('POST', '/api/v1/stack-runs/{stackRunId}/approve', admin(), { stackRunId: nextId })).status, 200);
  const nextApplied = (await waitForRun(admin(), nextId, ['applied', 'errored'])) as unknown as Run;
  assert.equal(nextApplied.status, 'applied', nextApplied.reason ?? '');
  assert.deepEqual(nextApplied.outputs, { label: { sensitive: false, value: 'two' } });
});

test('a branch that does not exist ends the run errored, naming the branch', async (t) => {
  if (!terraformOrSkip(t)) return;
  const stackId = await createStack('No branch', { ref: 'release', path: 'network' });
  const run = (await waitForRun(admin(), await plan(stackId), ['errored', 'planned'])) as unknown as Run;
  assert.equal(run.status, 'errored');
  assert.match(run.reason ?? '', /branch "release" does not exist in file:\/\/.*infra: check the stack's ref/);
});

test('a path that is not a directory of the commit ends the run errored, naming the path and the commit', async (t) => {
  if (!terraformOrSkip(t)) return;
  const stackId = await createStack('No path', { ref: 'main', path: 'compute' });
  const run = (await waitForRun(admin(), await plan(stackId), ['errored', 'planned'])) as unknown as Run;
  assert.equal(run.status, 'errored');
  assert.match(run.reason ?? '', /the directory "compute" is not in commit [0-9a-f]{12} of file:\/\/.*infra: check the stack's path/);
});
