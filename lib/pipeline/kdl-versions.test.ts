/** Files carry no version marker: KDL v2 and v1-style files both parse, to the same spec. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDiagnostic, loadPipeline } from './index';

const V1 = `pipeline "same" {
    on "push" branches="main"
}
stage "a" {
    image "alpine"
    run r#"printf '%s\\n' "quoted" ${'$'}{git.branch}"#
    allow-failure true
    approval false
}
`;

const V2 = `pipeline "same" {
    on "push" branches="main"
}
stage "a" {
    image "alpine"
    run #"printf '%s\\n' "quoted" ${'$'}{git.branch}"#
    allow-failure #true
    approval #false
}
`;

function specOf(text: string) {
  const { spec, diagnostics } = loadPipeline(text, 't.kdl');
  assert.deepEqual(diagnostics.map(formatDiagnostic), []);
  assert.ok(spec);
  return spec;
}

test('a v1 file (bare true/false, r"..." raw strings) parses', () => {
  const stage = specOf(V1).stages[0]!;
  assert.equal(stage.allowFailure, true);
  assert.equal(stage.approval, false);
  assert.equal(stage.commands[0]!.value, `printf '%s\\n' "quoted" \${git.branch}`);
});

test('a v2 file (#true, #"..."# raw strings) parses to the same values', () => {
  const v1 = specOf(V1).stages[0]!;
  const v2 = specOf(V2).stages[0]!;
  assert.equal(v2.allowFailure, v1.allowFailure);
  assert.equal(v2.approval, v1.approval);
  assert.equal(v2.commands[0]!.value, v1.commands[0]!.value);
});

test('v2 multi-line strings are dedented and keep their lines', () => {
  const spec = specOf('pipeline "m"\nstage "a" {\n    image "alpine"\n    run """\n        npm ci\n          npm test\n        """\n}\n');
  assert.equal(spec.stages[0]!.commands[0]!.value, 'npm ci\n  npm test');
});

test('v1 null is a value of the wrong type, with its position', () => {
  const { spec, diagnostics } = loadPipeline('pipeline "n"\nstage "a" {\n    image null\n    run "x"\n}\n', 't.kdl');
  assert.equal(spec, null);
  assert.deepEqual(
    diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`),
    ['2:7 stage "a" runs in a container but has no `image`', '3:11 `image` takes an image as a string, got #null'],
  );
});

test('positions in a v1 file point at the v1 source', () => {
  const { diagnostics } = loadPipeline('pipeline "p"\nstage "a" {\n    image "x"\n    run r"echo ${git.shaa}"\n    allow-failure true\n}\n', 't.kdl');
  assert.deepEqual(
    diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`),
    ['4:16 unknown reference `${git.shaa}`'],
  );
});

test('when neither version parses, syntax errors come from the v2 attempt', () => {
  // `#true` is v2-only and the unclosed block is invalid in both: a v1 message would talk about `#`.
  const { spec, diagnostics } = loadPipeline('pipeline "p"\nstage "a" {\n    approval #true\n', 't.kdl');
  assert.equal(spec, null);
  assert.deepEqual(diagnostics.map(formatDiagnostic), [
    't.kdl:4:1: error: invalid KDL: Invalid node children at end of input\n  hint: a block is not closed: add the missing `}`',
  ]);
});
