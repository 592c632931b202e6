/**
 * Fixture corpus (actionlint style): every testdata/ok/*.kdl gives no diagnostics; every
 * testdata/err/x.kdl gives exactly the lines of x.out (`LINE:COL: severity: MESSAGE` + hint lines);
 * every testdata/warn/x.kdl is valid and gives exactly the warnings of its x.out.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { formatDiagnostic, loadPipeline } from './index';
import { golden, kdlFiles, outLines, readText, TESTDATA_DIR, UPDATE_GOLDENS } from '../../tests/support/pipeline-fixtures';

const okFiles = kdlFiles(path.join(TESTDATA_DIR, 'ok'));
const errFiles = kdlFiles(path.join(TESTDATA_DIR, 'err'));
const warnFiles = kdlFiles(path.join(TESTDATA_DIR, 'warn'));

test('the corpus is large enough', () => {
  assert.ok(errFiles.length >= 40, `expected at least 40 invalid pipelines, found ${errFiles.length}`);
  assert.ok(okFiles.length >= 10, `expected at least 10 valid pipelines, found ${okFiles.length}`);
});

for (const file of okFiles) {
  test(`ok/${path.basename(file)} has no diagnostics`, () => {
    const { spec, diagnostics } = loadPipeline(readText(file), file);
    assert.deepEqual(diagnostics.map(formatDiagnostic), []);
    assert.notEqual(spec, null);
  });
}

for (const file of [...errFiles, ...warnFiles]) {
  const valid = warnFiles.includes(file);
  test(`${valid ? 'warn' : 'err'}/${path.basename(file)} reports exactly its .out`, () => {
    const outFile = file.replace(/\.kdl$/, '.out');
    assert.ok(UPDATE_GOLDENS || existsSync(outFile), `missing ${outFile} (run with UPDATE_GOLDENS=1, then review it)`);
    const { spec, diagnostics } = loadPipeline(readText(file), file);
    const actual = outLines(diagnostics);
    assert.equal(actual, golden(outFile, actual));
    if (valid) assert.ok(spec !== null && diagnostics.every((d) => d.severity === 'warning'), 'a file with warnings only is valid');
    else assert.equal(spec, null, 'a file with errors must not produce a spec');
    assert.ok(diagnostics.every((d) => d.file === file));
  });
}
