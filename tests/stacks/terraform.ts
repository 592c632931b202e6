/**
 * The real terraform binary for tests (BUILDIT_TERRAFORM_BIN, else `terraform` on PATH). Missing: the test
 * skips, or FAILS when BUILDIT_REQUIRE_ENGINES=1 (as tests/support/engines.ts does for Docker).
 * Configurations use only the built-in `terraform_data` resource, variables and outputs: nothing is downloaded.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { terraformBinary } from '../../lib/stacks/terraform/binary';
import { childEnv } from '../../lib/stacks/terraform/process';

export function terraformOrSkip(t: TestContext): string | null {
  const binary = terraformBinary();
  const found = spawnSync(binary, ['version'], { encoding: 'utf8' });
  if (found.status === 0) return binary;
  const hint = `no terraform (${binary}): install it or set BUILDIT_TERRAFORM_BIN`;
  if (process.env.BUILDIT_REQUIRE_ENGINES === '1') throw new Error(hint);
  t.skip(hint);
  return null;
}

/** A directory holding `files`, and the environment of a private, offline terraform. */
export function terraformDir(files: Record<string, string>): { dir: string; env: Record<string, string> } {
  const dir = mkdtempSync(path.join(tmpdir(), 'buildit-tf-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  const cliConfig = path.join(dir, '.terraformrc');
  writeFileSync(cliConfig, '');
  return { dir, env: { TF_CLI_CONFIG_FILE: cliConfig, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' } };
}

/**
 * The real terraform behind a wrapper whose `show` first sleeps `seconds`: a run then stays `planned` with its
 * plan not yet stored (plan.attributes `pending`) long enough for a test to look at that moment.
 */
export function slowShowTerraform(seconds: number): string {
  const wrapper = path.join(mkdtempSync(path.join(tmpdir(), 'buildit-tf-slow-show-')), 'terraform-slow-show');
  writeFileSync(wrapper, `#!/bin/sh\nif [ "$1" = show ]; then sleep ${seconds}; fi\nexec '${terraformBinary()}' "$@"\n`, { mode: 0o755 });
  return wrapper;
}

export interface TerraformResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function terraform(binary: string, dir: string, args: string[], env: Record<string, string>): Promise<TerraformResult> {
  return new Promise((resolve) => {
    execFile(binary, args, { cwd: dir, env: childEnv({ PATH: process.env.PATH ?? '', HOME: dir, ...env }), encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** A stack configuration: one resource, a plain and a sensitive variable and output. `sleepSeconds` slows the apply that creates its resource. */
export function stackConfig(options: { backend?: boolean; sleepSeconds?: number } = {}): string {
  return `terraform {
${options.backend === false ? '' : '  backend "http" {}\n'}}

variable "label" {
  type    = string
  default = "one"
}

variable "password" {
  type      = string
  sensitive = true
  default   = "default-password"
}

resource "terraform_data" "thing" {
  input = var.label
}
${options.sleepSeconds ? `\n# Created (and so provisioned) by the first apply of this configuration only.\nresource "terraform_data" "slow" {\n  provisioner "local-exec" {\n    command = "sleep ${options.sleepSeconds}"\n  }\n}\n` : ''}
resource "terraform_data" "secret" {
  input = var.password
}

output "label" {
  value = terraform_data.thing.output
}

output "password" {
  value     = terraform_data.secret.output
  sensitive = true
}
`;
}
