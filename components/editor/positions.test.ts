import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPipelineText } from './check';
import { offsetOf, toEditorDiagnostics } from './positions';

test('a line and column map to the UTF-16 offset, counting columns in code points', () => {
  const text = 'ab\n😀x\n\nlast';
  assert.equal(offsetOf(text, 1, 1), 0);
  assert.equal(offsetOf(text, 1, 3), 2, 'the end of a line');
  assert.equal(offsetOf(text, 2, 1), 3);
  assert.equal(offsetOf(text, 2, 2), 5, 'an emoji is one column but two UTF-16 units');
  assert.equal(text.slice(offsetOf(text, 2, 2)), 'x\n\nlast');
  assert.equal(offsetOf(text, 3, 1), 7, 'an empty line');
  assert.equal(offsetOf(text, 4, 99), text.length, 'a column past the end of the line stays on the line');
  assert.equal(offsetOf(text, 99, 1), text.length, 'a line past the end is the end of the document');
});

test("lib/pipeline's diagnostics underline the token they point at, after astral characters too", () => {
  const text = 'pipeline "p"\nstage "😀" {\n    imag "x"\n}\n';
  const { diagnostics, stages } = checkPipelineText(text);
  assert.equal(stages, null, 'no preview of a pipeline with errors');
  const unknown = diagnostics.find((d) => d.message.includes('unknown node'));
  assert.ok(unknown, JSON.stringify(diagnostics));
  assert.deepEqual([unknown.line, unknown.column], [3, 5]);
  const mapped = toEditorDiagnostics(text, diagnostics);
  const underline = mapped[diagnostics.indexOf(unknown)]!;
  assert.equal(text.slice(underline.from, underline.to), 'imag');
  assert.equal(underline.severity, 'error');
  assert.match(underline.message, /unknown node `imag`.*did you mean `image`/);
  const name = mapped[diagnostics.findIndex((d) => d.message.startsWith('invalid stage name'))]!;
  assert.equal(text.slice(name.from, name.to), '"😀"', 'the stage name, its surrogate pair whole');
});

test('a syntax error at the end of the text still maps inside the document', () => {
  const text = 'pipeline "p" {';
  const mapped = toEditorDiagnostics(text, checkPipelineText(text).diagnostics);
  assert.ok(mapped.length > 0);
  for (const d of mapped) assert.ok(d.from >= 0 && d.to <= text.length && d.from <= d.to, JSON.stringify(d));
});

test('the preview has every planned stage, matrices expanded, whatever the triggers, whens and variables', () => {
  const text = `pipeline "p" { on "push" branches="main"; }
variable "target"
stage "build" { image "busybox"; run "echo \${var.target}"; when branch="never"; }
stage "test" needs="build" { image "busybox"; run "true"; matrix { n "1" "2"; } }
stage "ship" { needs "test"; image "busybox"; run "true"; }
`;
  const { diagnostics, stages } = checkPipelineText(text);
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(stages, [
    { id: 'build', name: 'build', needs: [] },
    { id: 'test[n=1]', name: 'test', needs: ['build'] },
    { id: 'test[n=2]', name: 'test', needs: ['build'] },
    { id: 'ship', name: 'ship', needs: ['test[n=1]', 'test[n=2]'] },
  ]);
});
