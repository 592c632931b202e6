/**
 * Choosing a binary for a version constraint, with small scripts that answer `version -json` as terraform
 * does (each reports the version in its name) and record every call: tests/stacks/versions.test.ts runs
 * plans with the real terraform.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { terraformBinaries } from './binary';
import { binaryVersion, chooseBinary, UnsatisfiedConstraintError } from './version';

const scratch = mkdtempSync(path.join(tmpdir(), 'buildit-tf-versions-'));
const calls = path.join(scratch, 'calls');
writeFileSync(calls, '');

/** A script that says it is terraform `version` (a fake: it runs nothing else). */
function fakeTerraform(version: string): string {
  const file = path.join(scratch, `fake-terraform-${version}.sh`);
  writeFileSync(file, `#!/bin/sh\necho "${file} $*" >> '${calls}'\nprintf '{"terraform_version":"${version}","platform":"linux_amd64"}\\n'\n`, {
    mode: 0o755,
  });
  return file;
}

const callsOf = (file: string) =>
  readFileSync(calls, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith(`${file} `));

const v111 = fakeTerraform('1.11.4');
const v19 = fakeTerraform('1.9.8');
const v110 = fakeTerraform('1.10.2');
const missing = path.join(scratch, 'not-installed');

const binaries = terraformBinaries({
  BUILDIT_TERRAFORM_BIN: v111,
  BUILDIT_TERRAFORM_BINS: `old=${v19},mid=${v110},gone=${missing}`,
});

async function choose(terraformBinary: string | null, terraformVersion: string | null) {
  const lines: string[] = [];
  const binary = await chooseBinary(binaries, { terraformBinary, terraformVersion }, (line) => lines.push(line));
  return { binary, lines };
}

test('without a constraint no binary is asked its version: the stack runs the one it names, or the default', async () => {
  assert.deepEqual(await choose(null, null), { binary: v111, lines: [] });
  assert.deepEqual(await choose('old', null), { binary: v19, lines: [] });
  assert.deepEqual(callsOf(v111), []);
  assert.deepEqual(callsOf(v19), []);
});

test('the default when it satisfies the constraint, else the named binary with the highest version that does', async () => {
  const byDefault = await choose(null, '~> 1.11');
  assert.equal(byDefault.binary, v111);
  assert.deepEqual(byDefault.lines, [`terraform 1.11.4 (the default, ${v111}) satisfies the stack's version constraint "~> 1.11"`]);

  const older = await choose(null, '>= 1.9, < 1.11');
  assert.equal(older.binary, v110, '1.10.2 is higher than 1.9.8');
  assert.match(older.lines[0]!, /^terraform 1\.10\.2 \("mid", .*\) satisfies the stack's version constraint ">= 1\.9, < 1\.11"$/);
  assert.equal((await choose(null, '~> 1.9.0')).binary, v19);
  assert.equal((await choose('mid', '!= 1.9.8')).binary, v110, 'a named binary that satisfies it runs');
});

test('a version is asked once per binary path', async () => {
  await choose(null, '~> 1.11');
  await choose('old', '>= 1.0');
  assert.deepEqual(callsOf(v111), [`${v111} version -json`]);
  assert.deepEqual(callsOf(v19), [`${v19} version -json`]);
  assert.equal(await binaryVersion(v110), '1.10.2');
  assert.equal(callsOf(v110).length, 1);
});

test('when none satisfies the constraint the error lists every binary with its version and says what to do', async () => {
  await assert.rejects(choose(null, '>= 2.0'), (error: unknown) => {
    assert.ok(error instanceof UnsatisfiedConstraintError);
    assert.match(error.message, /^no terraform binary of this worker satisfies the stack's version constraint ">= 2\.0"; /);
    assert.match(
      error.message,
      /this worker's binaries: the default: 1\.11\.4; "old": 1\.9\.8; "mid": 1\.10\.2; "gone": version unknown \(cannot run .*not-installed/,
    );
    assert.match(error.message, /add it to BUILDIT_TERRAFORM_BINS/);
    assert.match(error.message, /change the constraint/);
    return true;
  });
  await assert.rejects(choose('old', '~> 1.11'), (error: unknown) => {
    assert.ok(error instanceof UnsatisfiedConstraintError);
    assert.match(error.message, /^the stack's terraform binary "old": 1\.9\.8, which does not satisfy its version constraint "~> 1\.11"; /);
    assert.match(error.message, /this worker's binaries: the default: 1\.11\.4; /);
    assert.match(error.message, /Choose one that satisfies it in the stack settings/);
    return true;
  });
  await assert.rejects(choose('terraform-0.1', '~> 1.11'), /"terraform-0\.1", which this worker does not have/);
});

test('a version asked of a binary that is not there is not kept: installing it later is enough', async () => {
  await assert.rejects(binaryVersion(missing), /cannot run/);
  writeFileSync(missing, readFileSync(v19, 'utf8').replace(v19, missing), { mode: 0o755 });
  assert.equal(await binaryVersion(missing), '1.9.8');
});
