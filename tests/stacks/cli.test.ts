/**
 * `buildit stacks ...` (the real CLI binary) against the real route handlers and a real stack worker:
 * create, plan with an uploaded directory (followed), apply then approve, show the outputs, list state
 * versions, unlock; a stack that names a terraform binary and a version constraint; `apply` on an auto-apply
 * stack follows the run past the moment it is planned but not yet stored, to applied.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { childEnv } from '../../lib/stacks/terraform/process';
import { useStackWorld } from './support';
import { slowShowTerraform, stackConfig, terraformDir, terraformOrSkip } from './terraform';

process.env.BUILDIT_SECRET_KEY = randomBytes(32).toString('base64');

const bin = path.resolve(import.meta.dirname, '../../node_modules/.bin/buildit');
const home = mkdtempSync(path.join(tmpdir(), 'buildit-cli-stacks-'));

// `slow-show`: a terraform whose `show` takes a second, so a run is planned for that long before its plan is stored.
const world = useStackWorld({ env: { ...process.env, BUILDIT_TERRAFORM_BINS: `slow-show=${slowShowTerraform(1)}` } });

function buildit(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: home,
      NO_COLOR: '1',
      BUILDIT_CONFIG: path.join(home, 'config.json'),
      BUILDIT_URL: world.router.url,
      BUILDIT_TOKEN: world.world.adminA.token,
    };
    execFile(bin, args, { cwd: home, env: childEnv(env), encoding: 'utf8', timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

test('buildit stacks: create, plan DIR, apply DIR + approve, show, state list, unlock', async (t) => {
  if (!terraformOrSkip(t)) return;
  const { dir } = terraformDir({ 'main.tf': stackConfig({ backend: false }) });

  const created = await buildit(['stacks', 'create', '--name', 'app', '--tenant', 'a', '--environment', 'dev']);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /Created stack app/);

  const plan = await buildit(['stacks', 'plan', 'a/app', dir]);
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, /terraform_data\.thing: Plan to create/);
  assert.match(plan.stderr, /Run #1: planned; 2 to add, 0 to change, 0 to destroy, 0 to replace/);

  const apply = await buildit(['stacks', 'apply', 'app', dir]);
  assert.equal(apply.code, 0, apply.stderr);
  const runId = /buildit stacks approve (\w+)/.exec(apply.stderr)?.[1];
  assert.ok(runId, apply.stderr);

  const approved = await buildit(['stacks', 'approve', runId]);
  assert.equal(approved.code, 0, approved.stderr);
  assert.match(approved.stdout, /Apply complete! Resources: 2 added/);
  assert.match(approved.stderr, /applied/);

  const shown = await buildit(['stacks', 'show', 'app']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /label = "one"/);
  assert.match(shown.stdout, /password = \(sensitive\)/);
  assert.match(shown.stdout, /terraform: the worker's default/);

  const versions = await buildit(['stacks', 'state', 'list', 'app', '--json']);
  assert.equal(versions.code, 0, versions.stderr);
  assert.equal((JSON.parse(versions.stdout) as unknown[]).length, 1);

  const listed = await buildit(['stacks', 'list', '--tenant', 'a']);
  assert.match(listed.stdout, /app\s+#2 apply applied\s+no\s+-/);

  const unlocked = await buildit(['stacks', 'unlock', 'app']);
  assert.equal(unlocked.code, 0, unlocked.stderr);
  assert.match(unlocked.stdout, /not locked/);
});

test("buildit stacks create --terraform NAME --terraform-version CONSTRAINT: one of the workers' binaries, and its version", async () => {
  const created = await buildit(['stacks', 'create', '--name', 'tofu-stack', '--tenant', 'a', '--terraform', 'tofu', '--json']);
  assert.equal(created.code, 0, created.stderr);
  assert.equal((JSON.parse(created.stdout) as { terraformBinary: string }).terraformBinary, 'tofu');
  const shown = await buildit(['stacks', 'show', 'a/tofu-stack']);
  assert.match(shown.stdout, /terraform: tofu\n/);

  const refused = await buildit(['stacks', 'create', '--name', 'bad', '--tenant', 'a', '--terraform', '/bin/sh']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /terraformBinary/);

  const versioned = await buildit(['stacks', 'create', '--name', 'versioned', '--tenant', 'a', '--terraform-version', '~> 1.11', '--json']);
  assert.equal(versioned.code, 0, versioned.stderr);
  assert.equal((JSON.parse(versioned.stdout) as { terraformVersion: string }).terraformVersion, '~> 1.11');
  assert.match((await buildit(['stacks', 'show', 'a/versioned'])).stdout, /terraform: any of the worker's binaries, version ~> 1\.11\n/);
  const unreadable = await buildit(['stacks', 'create', '--name', 'bad', '--tenant', 'a', '--terraform-version', 'latest']);
  assert.notEqual(unreadable.code, 0);
  assert.match(unreadable.stderr, /terraformVersion.*"latest" is not a terraform version constraint/);
});

test('buildit stacks apply on an auto-apply stack follows the run to applied, past the moment it is planned before its plan is stored', async (t) => {
  if (!terraformOrSkip(t)) return;
  const { dir } = terraformDir({ 'main.tf': stackConfig({ backend: false }) });
  const created = await buildit(['stacks', 'create', '--name', 'auto', '--tenant', 'a', '--auto-apply', '--terraform', 'slow-show']);
  assert.equal(created.code, 0, created.stderr);
  const apply = await buildit(['stacks', 'apply', 'a/auto', dir]);
  assert.equal(apply.code, 0, apply.stderr);
  assert.match(apply.stdout, /\$ terraform show -json/, 'the log is followed through show');
  assert.match(apply.stdout, /Apply complete! Resources: 2 added/);
  assert.doesNotMatch(apply.stderr, /buildit stacks approve/);
});
