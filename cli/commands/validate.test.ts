/** `buildit validate`: exit codes 0/1/2, the text format and the JSON shape, through the real binary. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'cli/bin.mjs');

function buildit(args: string[], cwd = ROOT): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('a valid file exits 0 and prints no diagnostics', () => {
  const result = buildit(['validate', 'examples/matrix.kdl', 'examples/minimal.kdl']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr, '2 files valid\n');
});

test('stage kinds that are not supported yet are warnings with the words a run fails with; the file stays valid', () => {
  const result = buildit(['validate', 'examples/release.kdl']);
  assert.equal(result.code, 0, result.stderr);
  const warnings = result.stdout.split('\n').filter((line) => line.includes(': warning: '));
  assert.deepEqual(warnings, [
    'examples/release.kdl:16:5: warning: stage kind "build" is not supported yet',
    'examples/release.kdl:26:5: warning: stage kind "deploy" is not supported yet',
    'examples/release.kdl:30:5: warning: stage kind "deploy" is not supported yet',
    'examples/release.kdl:36:5: warning: stage kind "deploy" is not supported yet',
  ]);
  assert.equal(result.stderr, '1 file valid\n');
});

test('a file that is not UTF-8 is invalid, with the position of the first bad byte (as the API refuses it)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'buildit-validate-'));
  try {
    const file = path.join(dir, 'latin1.kdl');
    writeFileSync(file, Buffer.concat([Buffer.from('pipeline "p"\nstage "caf'), Buffer.from([0xe9]), Buffer.from('" { executor "local"; run "true"; }\n')]));
    const result = buildit(['validate', file]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, `${file}:2:11: error: the file is not valid UTF-8 (byte 0xe9)\n  hint: save the file as UTF-8\n`);
    const run = buildit(['run', file, '--executor', 'local'], dir);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /latin1\.kdl:2:11: error: the file is not valid UTF-8/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an invalid file exits 1 and prints FILE:LINE:COL: error: MESSAGE lines with hints', () => {
  const result = buildit(['validate', 'lib/pipeline/testdata/err/needs-unknown.kdl']);
  assert.equal(result.code, 1);
  assert.equal(
    result.stdout,
    'lib/pipeline/testdata/err/needs-unknown.kdl:3:20: error: stage "test" needs "lnit", which does not exist\n' +
      '  hint: did you mean "lint"?\n' +
      'lib/pipeline/testdata/err/needs-unknown.kdl:4:11: error: stage "test" needs "build", which does not exist\n' +
      '  hint: stages are "lint", "test"\n',
  );
  assert.equal(result.stderr, '1 of 1 file invalid\n');
});

test('a missing file exits 2 with a clear message', () => {
  const result = buildit(['validate', 'does-not-exist.kdl']);
  assert.equal(result.code, 2);
  assert.equal(result.stderr, 'buildit: cannot read does-not-exist.kdl: no such file\n');
});

test('without arguments it validates ./buildit.kdl', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'buildit-validate-'));
  try {
    const missing = buildit(['validate'], dir);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read buildit\.kdl: no such file/);
    writeFileSync(path.join(dir, 'buildit.kdl'), 'pipeline "here"\nstage "a" { executor "local"; run "true"; }\n');
    assert.equal(buildit(['validate'], dir).code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--format json prints every file with its diagnostics', () => {
  const result = buildit(['validate', '--format', 'json', 'examples/minimal.kdl', 'lib/pipeline/testdata/err/warnings-unused.kdl']);
  assert.equal(result.code, 1);
  const report = JSON.parse(result.stdout);
  assert.deepEqual(report.files[0], { file: 'examples/minimal.kdl', valid: true, diagnostics: [] });
  assert.equal(report.files[1].valid, false);
  assert.deepEqual(report.files[1].diagnostics[0], {
    severity: 'warning',
    message: 'variable "unused" is declared but never used',
    line: 2,
    column: 1,
    hint: 'reference it as `${var.unused}`, or remove it',
  });
  assert.deepEqual(
    report.files[1].diagnostics.map((d: { severity: string }) => d.severity),
    ['warning', 'warning', 'error'],
  );
});

test('an unknown format is a usage error', () => {
  assert.equal(buildit(['validate', '--format', 'yaml', 'examples/minimal.kdl']).code, 2);
});

test('`on "tags"` is an error that names the closest event and lists them all; tag triggers and optional needs are valid', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'buildit-validate-'));
  try {
    writeFileSync(path.join(dir, 'typo.kdl'), 'pipeline "t" {\n    on "tags" tags="v*"\n}\nstage "a" { image "alpine"; run "true"; }\n');
    const typo = buildit(['validate', 'typo.kdl'], dir);
    assert.equal(typo.code, 1);
    assert.equal(
      typo.stdout,
      'typo.kdl:2:8: error: unknown trigger event "tags"\n  hint: did you mean "tag"? (events are "push", "tag", "pull_request", "schedule", "manual")\n',
    );
    writeFileSync(
      path.join(dir, 'ok.kdl'),
      'pipeline "t" {\n    on "tag" tags="v*"\n}\nstage "a" { image "alpine"; run "true"; }\nstage "b" { needs "a" optional=#true; image "alpine"; run "echo \\"${git.tag}\\""; when tag="v*"; }\n',
    );
    const ok = buildit(['validate', 'ok.kdl'], dir);
    assert.equal(ok.code, 0, ok.stdout);
    assert.equal(ok.stdout, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
