/**
 * A stack names which of the worker's terraform binaries runs it (BUILDIT_TERRAFORM_BINS), with the real
 * terraform: a second binary is a wrapper script that records each call and then runs terraform, so the
 * test sees which binary ran. A stack that names a binary the worker does not have errors, saying which exist.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { api, createStack as createStackIn, packConfiguration, planUpload, useStackWorld } from './support';
import { terraformBinary } from '../../lib/stacks/terraform/binary';
import { terraformDir, terraformOrSkip } from './terraform';

process.env.BUILDIT_SECRET_KEY = randomBytes(32).toString('base64');

const scratch = mkdtempSync(path.join(tmpdir(), 'buildit-tf-binaries-'));
const calls = path.join(scratch, 'calls');
const wrapper = path.join(scratch, 'terraform-wrapped');
writeFileSync(wrapper, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${calls}'\nexec '${terraformBinary()}' "$@"\n`, { mode: 0o755 });

const world = useStackWorld({ env: { ...process.env, BUILDIT_TERRAFORM_BINS: `wrapped=${wrapper}` } });

const admin = () => world.world.adminA.token;
const configuration = () => packConfiguration(terraformDir({ 'main.tf': 'resource "terraform_data" "a" {\n  input = "one"\n}\n' }).dir);
const recorded = () => (existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : []);

const createStack = (body: Record<string, unknown>) => createStackIn<{ id: string; terraformBinary: string | null }>(admin(), world.world.tenantA, body);
const plan = (stackId: string) => planUpload(admin(), stackId, configuration());

test('a stack that names a binary runs that one; a stack that names none runs the default', async (t) => {
  if (!terraformOrSkip(t)) return;
  const wrapped = await createStack({ name: 'Wrapped', terraformBinary: 'wrapped' });
  assert.equal(wrapped.terraformBinary, 'wrapped');
  const run = await plan(wrapped.id);
  assert.equal(run.status, 'planned', run.reason ?? '');
  assert.deepEqual(recorded(), ['init', 'plan', 'show']);

  const plain = await createStack({ name: 'Plain' });
  assert.equal(plain.terraformBinary, null);
  const other = await plan(plain.id);
  assert.equal(other.status, 'planned', other.reason ?? '');
  assert.deepEqual(recorded(), ['init', 'plan', 'show'], 'the default binary is not the wrapper');
});

test('a binary the worker does not have errors the run, naming the ones it has', async (t) => {
  if (!terraformOrSkip(t)) return;
  const stack = await createStack({ name: 'Missing', terraformBinary: 'terraform-0.1' });
  const run = await plan(stack.id);
  assert.equal(run.status, 'errored');
  assert.match(run.reason ?? '', /"terraform-0\.1", which this worker does not have; its named binaries: "wrapped"/);

  const fixed = await api('PATCH', '/api/v1/stacks/{stackId}', admin(), { stackId: stack.id }, { terraformBinary: null });
  assert.equal(fixed.status, 200, fixed.text);
  assert.equal((fixed.body as { terraformBinary: string | null }).terraformBinary, null);
  assert.equal((await plan(stack.id)).status, 'planned');
});

test('the API refuses a binary name that cannot be one', async () => {
  const refused = await api(
    'POST',
    '/api/v1/tenants/{tenantId}/stacks',
    admin(),
    { tenantId: world.world.tenantA },
    { name: 'Bad', terraformBinary: '/usr/bin/terraform' },
  );
  assert.equal(refused.status, 422, refused.text);
  assert.match(refused.text, /terraformBinary/);
  assert.match(refused.text, /a binary name/);
});
