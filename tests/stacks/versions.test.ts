/**
 * A stack's terraform version constraint, met from the worker's binaries, with the real terraform (1.11.4)
 * as the default and two fakes named for the version they claim (`fake-terraform-1.9.sh` says 1.9.8,
 * `fake-terraform-1.12.sh` 1.12.1 to `version -json`) that record each call and run the real terraform for
 * everything else, so the test sees which binary a run chose.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { api, createStack as createStackIn, packConfiguration, planUpload, runLogText, useStackWorld } from './support';
import { terraformBinary } from '../../lib/stacks/terraform/binary';
import { terraformDir, terraformOrSkip } from './terraform';

process.env.BUILDIT_SECRET_KEY = randomBytes(32).toString('base64');

const scratch = mkdtempSync(path.join(tmpdir(), 'buildit-tf-versions-'));
const calls = path.join(scratch, 'calls');

/** Claims `version` to `version -json`, records every call, runs the real terraform for anything else. */
function fakeVersion(label: string, version: string): string {
  const file = path.join(scratch, `fake-terraform-${label}.sh`);
  const json = JSON.stringify({ terraform_version: version, platform: 'linux_amd64', provider_selections: {}, terraform_outdated: false });
  writeFileSync(
    file,
    `#!/bin/sh\nprintf '%s %s\\n' '${label}' "$1" >> '${calls}'\n` +
      `if [ "$1" = version ]; then printf '%s\\n' '${json}'; exit 0; fi\nexec '${terraformBinary()}' "$@"\n`,
    { mode: 0o755 },
  );
  return file;
}

const fake19 = fakeVersion('1.9', '1.9.8');
const fake112 = fakeVersion('1.12', '1.12.1');
const world = useStackWorld({ env: { ...process.env, BUILDIT_TERRAFORM_BINS: `tf19=${fake19},tf112=${fake112}` } });

const admin = () => world.world.adminA.token;
const configuration = () => packConfiguration(terraformDir({ 'main.tf': 'resource "terraform_data" "a" {\n  input = "one"\n}\n' }).dir);
const recorded = () => (existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : []);

type StackBody = { id: string; terraformBinary: string | null; terraformVersion: string | null };

const createStack = (body: Record<string, unknown>) => createStackIn<StackBody>(admin(), world.world.tenantA, body);
const plan = (stackId: string) => planUpload(admin(), stackId, configuration());

test('a constraint the default satisfies runs the default, and the log says which terraform it is', async (t) => {
  if (!terraformOrSkip(t)) return;
  const stack = await createStack({ name: 'Default', terraformVersion: '~> 1.11' });
  assert.equal(stack.terraformVersion, '~> 1.11');
  const run = await plan(stack.id);
  assert.equal(run.status, 'planned', run.reason ?? '');
  assert.match(await runLogText(admin(), run.id), /terraform 1\.11\.4 \(the default, .+\) satisfies the stack's version constraint "~> 1\.11"/);
  // No fake was asked anything: the default satisfied the constraint.
  assert.deepEqual(recorded(), []);
});

test('a constraint only a named binary satisfies runs that one', async (t) => {
  if (!terraformOrSkip(t)) return;
  const stack = await createStack({ name: 'Newer', terraformVersion: '>= 1.9, != 1.11.4' });
  const run = await plan(stack.id);
  assert.equal(run.status, 'planned', run.reason ?? '');
  assert.match(
    await runLogText(admin(), run.id),
    /terraform 1\.12\.1 \("tf112", .*fake-terraform-1\.12\.sh\) satisfies the stack's version constraint ">= 1\.9, != 1\.11\.4"/,
  );
  // Each fake told its version once; the highest one (1.12.1 over 1.9.8) ran the plan.
  assert.deepEqual(recorded().sort(), ['1.12 init', '1.12 plan', '1.12 show', '1.12 version', '1.9 version']);
});

test('a named binary that does not satisfy the constraint errors the run, listing every binary and its version', async (t) => {
  if (!terraformOrSkip(t)) return;
  const stack = await createStack({ name: 'Pinned', terraformBinary: 'tf19', terraformVersion: '~> 1.11' });
  const run = await plan(stack.id);
  assert.equal(run.status, 'errored');
  assert.match(run.reason ?? '', /^the stack's terraform binary "tf19": 1\.9\.8, which does not satisfy its version constraint "~> 1\.11"; /);
  assert.match(run.reason ?? '', /this worker's binaries: the default: 1\.11\.4; "tf19": 1\.9\.8; "tf112": 1\.12\.1\. /);
  assert.match(run.reason ?? '', /add it to BUILDIT_TERRAFORM_BINS, or change the constraint/);

  const none = await createStack({ name: 'Future', terraformVersion: '>= 2.0' });
  const refused = await plan(none.id);
  assert.equal(refused.status, 'errored');
  assert.match(refused.reason ?? '', /^no terraform binary of this worker satisfies the stack's version constraint ">= 2\.0"; this worker's binaries: /);

  // Dropping the binary lets the worker pick: the default satisfies ~> 1.11.
  const fixed = await api('PATCH', '/api/v1/stacks/{stackId}', admin(), { stackId: stack.id }, { terraformBinary: null });
  assert.equal(fixed.status, 200, fixed.text);
  assert.equal((await plan(stack.id)).status, 'planned');
});

test('the API refuses a constraint it cannot read, saying what one looks like; null clears it', async () => {
  const refused = await api('POST', '/api/v1/tenants/{tenantId}/stacks', admin(), { tenantId: world.world.tenantA }, { name: 'Bad', terraformVersion: '1.x' });
  assert.equal(refused.status, 422, refused.text);
  assert.match(refused.text, /terraformVersion/);
  assert.match(refused.text, /\\"1\.x\\" is not a terraform version constraint/);
  assert.match(refused.text, /~> 1\.11/);

  const stack = await createStack({ name: 'Cleared', terraformVersion: ' >= 1.9 ' });
  assert.equal(stack.terraformVersion, '>= 1.9', 'trimmed');
  const patched = await api('PATCH', '/api/v1/stacks/{stackId}', admin(), { stackId: stack.id }, { terraformVersion: '~> 1.11 extra' });
  assert.equal(patched.status, 422, patched.text);
  const cleared = await api('PATCH', '/api/v1/stacks/{stackId}', admin(), { stackId: stack.id }, { terraformVersion: null });
  assert.equal(cleared.status, 200, cleared.text);
  assert.equal((cleared.body as StackBody).terraformVersion, null);
});
