/**
 * The two passes of `loadPipeline`: a valid file is parsed without source locations, and its spec's
 * spans are resolved on first read; they must be exactly those of a located parse.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { mock, test } from 'node:test';
import { DiagnosticCollector } from './diagnostics';
import { loadPipeline } from './index';
import { KdlSource } from './kdl';
import { IncludeSources } from './includes';
import { parsePipeline } from './parse';
import { EXAMPLES_DIR, kdlFiles, readText, TESTDATA_DIR } from '../../tests/support/pipeline-fixtures';

const validFiles = [...kdlFiles(path.join(TESTDATA_DIR, 'ok')), ...kdlFiles(EXAMPLES_DIR)];

for (const file of validFiles) {
  test(`${path.basename(path.dirname(file))}/${path.basename(file)}: lazily resolved spans equal a located parse's`, () => {
    const text = readText(file);
    const { spec, diagnostics } = loadPipeline(text, file);
    // Stage kinds that are not supported yet are the only warnings a valid example may have.
    assert.deepEqual(
      diagnostics.filter((d) => d.rule !== 'unsupported'),
      [],
    );
    const located = parsePipeline(new KdlSource(text), file, new DiagnosticCollector(file), true, { sources: new IncludeSources(undefined), mainPath: file });
    // JSON: lazy spans serialize as plain `{ line, column, file }`.
    assert.equal(JSON.stringify(spec), JSON.stringify(located));
  });
}

test('a valid file is parsed with locations only when a span is read, and only once', (t) => {
  const parse = mock.method(KdlSource.prototype, 'parse');
  t.after(() => parse.mock.restore());
  const { spec } = loadPipeline('pipeline "p"\nstage "a" {\n    image "alpine"\n    run "echo ${git.sha}"\n}\n', 'p.kdl');
  assert.ok(spec);
  const located = () => parse.mock.calls.filter((call) => call.arguments[1] === true).length;
  assert.equal(located(), 0);
  const stage = spec.stages[0]!;
  assert.deepEqual([stage.span.line, stage.span.column], [2, 7]);
  assert.deepEqual([stage.commands[0]!.refSpans[0]!.line, stage.commands[0]!.refSpans[0]!.column], [4, 15]);
  assert.deepEqual([stage.image!.span.line, stage.image!.span.column], [3, 11]);
  assert.equal(located(), 1);
});

test('any diagnostic, even a warning, gets its position from a located parse', (t) => {
  const parse = mock.method(KdlSource.prototype, 'parse');
  t.after(() => parse.mock.restore());
  const { spec, diagnostics } = loadPipeline('pipeline "w"\nvariable "v" default="1"\nstage "a" { image "x"; run "y"; }\n', 'w.kdl');
  assert.ok(spec);
  assert.deepEqual(
    diagnostics.map((d) => `${d.line}:${d.column} ${d.rule}`),
    ['2:1 unused'],
  );
  assert.deepEqual(
    parse.mock.calls.map((call) => call.arguments),
    [
      [2, false],
      [2, true],
    ],
  );
});
