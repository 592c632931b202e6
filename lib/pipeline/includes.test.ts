/** `include`: files read through `LoadOptions.readInclude` from a directory that stands for a repository (testdata/includes). */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { formatDiagnostic, loadPipeline, plan, type LoadOptions } from './index';
import { pushTrigger, TESTDATA_DIR } from '../../tests/support/pipeline-fixtures';

const REPOSITORY = path.join(TESTDATA_DIR, 'includes');

function load(file: string, options: LoadOptions = {}) {
  const readInclude = (relative: string) => {
    const full = path.join(REPOSITORY, relative);
    return existsSync(full) ? readFileSync(full) : null;
  };
  return loadPipeline(readFileSync(path.join(REPOSITORY, file), 'utf8'), file, { readInclude, ...options });
}

test('include + extends give the same plan as the expanded file', () => {
  const included = load('buildit.kdl');
  const expanded = load('expanded.kdl');
  assert.deepEqual(included.diagnostics.map(formatDiagnostic), []);
  assert.deepEqual(expanded.diagnostics.map(formatDiagnostic), []);
  assert.deepEqual(plan(included.spec!, pushTrigger()), plan(expanded.spec!, pushTrigger()));
});

test('problems of included files point at their file, line and column; clashes name both places', () => {
  const { spec, diagnostics } = load('clash.kdl');
  assert.equal(spec, null);
  assert.deepEqual(diagnostics.map(formatDiagnostic), [
    'ci/broken.kdl:1:1: error: an included file cannot have a `pipeline` node\n  hint: the including pipeline file has it',
    'ci/broken.kdl:5:13: error: `timeout` takes a duration as a string, got number 5\n  hint: add a unit, e.g. "5s" or "5m"',
    'clash.kdl:3:9: error: cannot include "../outside.kdl": `..` would leave the repository\n  hint: write a path from the root of the repository, e.g. "ci/common.kdl"',
    'clash.kdl:4:9: error: cannot include "/etc/passwd": the path is absolute\n  hint: write a path from the root of the repository, e.g. "ci/common.kdl"',
    'clash.kdl:5:9: error: cannot include "ci/missing.kdl": there is no such file in the repository',
    'clash.kdl:8:10: error: duplicate variable "registry"\n  hint: the first one is at ci/common.kdl:2',
    'clash.kdl:9:7: error: duplicate stage "lint"\n  hint: the first one is at ci/common.kdl:12',
    'cycle/b.kdl:2:9: error: include cycle: cycle/a.kdl -> cycle/b.kdl -> cycle/a.kdl\n  hint: "cycle/b.kdl" is included at cycle/a.kdl:1',
  ]);
});

test('a pipeline not read from a repository cannot include', () => {
  const { diagnostics } = loadPipeline('pipeline "p"\ninclude "ci/common.kdl"\n', 'stored.kdl');
  assert.deepEqual(diagnostics.map(formatDiagnostic), [
    'stored.kdl:2:9: error: cannot include "ci/common.kdl": this pipeline is not read from a repository\n  hint: keep the pipeline in its repository (the server reads it at the run commit), or copy the included file in',
  ]);
});

test('a file that includes itself is a cycle', () => {
  const { diagnostics } = loadPipeline('pipeline "p"\ninclude "buildit.kdl"\n', 'buildit.kdl', { readInclude: () => 'include "buildit.kdl"\n' });
  assert.deepEqual(diagnostics.map(formatDiagnostic), ['buildit.kdl:2:9: error: include cycle: buildit.kdl -> buildit.kdl']);
});
