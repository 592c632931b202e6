import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadPipeline } from '../../lib/pipeline';
import { emptyDraft, type WizardDraft } from './draft';
import { generateKdl, kdlString } from './kdl';

const HOSTILE = [
  'say "hi"',
  'back\\slash\\',
  'two\nlines\r\nand a tab\t',
  '${secrets.TOKEN} and $${literal}',
  '" }\nstage "injected" { run "rm -rf /"; }\n//',
  'unicode é 😀 \u2028 \u202e \u0000 \u007f \ufeff',
  '/- slashdash',
];

function draft(overrides: Partial<WizardDraft>): WizardDraft {
  return { ...emptyDraft('tenant'), ...overrides };
}

function load(text: string) {
  const result = loadPipeline(text, 'buildit.kdl');
  assert.ok(result.spec, `${text}\n${JSON.stringify(result.diagnostics, null, 2)}`);
  return result.spec;
}

test('a typical draft gives the pipeline it describes; needs name stages by their current names', () => {
  const text = generateKdl(
    draft({
      name: 'web app',
      triggers: { push: true, pushBranches: 'main release/*', pullRequest: true, tag: true, tags: 'v*', schedule: true, cron: '0 3 * * *', manual: true },
      stages: [
        { key: 'a', name: 'build', image: 'local/busybox:latest', commands: 'echo one\n\n  echo two  \n', needs: [] },
        { key: 'b', name: 'test', image: 'local/busybox:latest', commands: 'echo test', needs: ['a', 'removed-stage'] },
      ],
      env: [{ key: 'e', name: 'MODE', value: 'ci' }],
      secrets: [{ key: 's', name: 'TOKEN', value: 'never written' }],
    }),
  );
  assert.equal(
    text,
    `pipeline "web app" {
    on "push" branches="main" "release/*"
    on "pull_request"
    on "tag" tags="v*"
    on "schedule" cron="0 3 * * *"
    on "manual"
}

env {
    MODE "ci"
}

stage "build" {
    image "local/busybox:latest"
    run "echo one"
    run "  echo two  "
    secret "TOKEN"
}

stage "test" {
    needs "build"
    image "local/busybox:latest"
    run "echo test"
    secret "TOKEN"
}
`,
  );
  const spec = load(text);
  assert.deepEqual(
    spec.stages.map((stage) => [stage.name, stage.needs.map((need) => need.name), stage.commands.map((command) => command.value)]),
    [
      ['build', [], ['echo one', '  echo two  ']],
      ['test', ['build'], ['echo test']],
    ],
  );
  assert.ok(!text.includes('never written'), 'a secret value is never in the text');
});

test('hostile values stay one string each: the pipeline reads back exactly what was typed', () => {
  for (const hostile of HOSTILE) {
    const text = generateKdl(
      draft({
        name: hostile,
        stages: [{ key: 'a', name: 'build', image: `busybox ${hostile}`, commands: hostile.replaceAll(/[\r\n]/g, ' '), needs: [] }],
        env: [{ key: 'e', name: 'VALUE', value: hostile }],
      }),
    );
    const result = loadPipeline(text, 'buildit.kdl');
    const context = `${text}\n${JSON.stringify(result.diagnostics)}`;
    assert.ok(!result.diagnostics.some((d) => d.rule === 'syntax'), context);
    // `${...}` is interpolation in images, commands and env values: the language may refuse a reference, never the syntax.
    if (hostile.includes('${')) continue;
    assert.ok(result.spec, context);
    assert.equal(result.spec.name, hostile, context);
    assert.equal(result.spec.stages.length, 1, context);
    assert.equal(result.spec.stages[0]!.image?.value, `busybox ${hostile}`.trim(), 'the image is trimmed, nothing else');
    assert.equal(result.spec.env[0]!.value.value, hostile);
  }
});

test('a `${...}` in a name is kept literally (names are not interpolated)', () => {
  const name = 'deploy ${secrets.TOKEN} "now"';
  const spec = load(generateKdl(draft({ name, stages: [{ key: 'a', name: 'build', image: 'busybox', commands: 'echo "${git.branch}"', needs: [] }] })));
  assert.equal(spec.name, name);
  assert.equal(spec.stages[0]!.commands[0]!.value, 'echo "${git.branch}"');
});

test('kdlString escapes what would end the string or break the line', () => {
  assert.equal(kdlString('a"b\\c\nd\te'), '"a\\"b\\\\c\\nd\\te"');
  assert.equal(kdlString('${x}'), '"${x}"', 'interpolation stays for the language to read');
  assert.equal(kdlString('\u202e'), '"\\u{202e}"');
  assert.equal(kdlString('\ud800'), '"\ufffd"', 'a lone surrogate cannot be written');
});

test('a hostile stage or secret name is reported by the validator at its line, never read as more nodes', () => {
  const text = generateKdl(
    draft({
      name: 'p',
      stages: [{ key: 'a', name: 'x" { run "evil" }\nstage "y', image: 'busybox', commands: 'true', needs: [] }],
      secrets: [{ key: 's', name: 'BAD NAME"', value: '' }],
    }),
  );
  const { spec, diagnostics } = loadPipeline(text, 'buildit.kdl');
  assert.equal(spec, null);
  assert.ok(!diagnostics.some((d) => d.rule === 'syntax'), JSON.stringify(diagnostics));
  assert.ok(
    diagnostics.some((d) => d.message.startsWith('invalid stage name')),
    JSON.stringify(diagnostics),
  );
});

test('names that are KDL keywords or not identifiers are quoted as env node names', () => {
  const text = generateKdl(
    draft({ name: 'p', stages: [{ key: 'a', name: 'b', image: 'busybox', commands: 'true', needs: [] }], env: [{ key: 'e', name: 'true', value: 'x' }] }),
  );
  assert.match(text, /^ {4}"true" "x"$/m);
  const { diagnostics } = loadPipeline(text, 'buildit.kdl');
  assert.ok(!diagnostics.some((d) => d.rule === 'syntax'), JSON.stringify(diagnostics));
});

test('an empty draft is still KDL; the validator says what is missing', () => {
  const { diagnostics } = loadPipeline(generateKdl(draft({ stages: [{ key: 'a', name: '', image: '', commands: '', needs: [] }] })), 'buildit.kdl');
  assert.ok(diagnostics.length > 0);
  assert.ok(!diagnostics.some((d) => d.rule === 'syntax'), JSON.stringify(diagnostics));
});
