/** `on ... paths=` and `when changes=`: planning with the trigger's changed files. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadPipeline, plan } from './index';
import { EXAMPLES_DIR, pushTrigger, readText } from '../../tests/support/pipeline-fixtures';
import path from 'node:path';

const spec = loadPipeline(readText(path.join(EXAMPLES_DIR, 'path-filters.kdl')), 'path-filters.kdl').spec!;

function skips(changedFiles: string[] | undefined): Record<string, string | null> {
  const result = plan(spec, pushTrigger(changedFiles === undefined ? {} : { changedFiles }));
  assert.ok(result.triggered, result.notTriggeredReason ?? '');
  return Object.fromEntries(result.stages.map((s) => [s.id, s.skip?.reason ?? null]));
}

test('a push that changes nothing the pipeline watches is not triggered, and says why', () => {
  const result = plan(spec, pushTrigger({ changedFiles: ['README.md', 'docs/drafts/idea.md'] }));
  assert.equal(result.triggered, false);
  assert.equal(
    result.notTriggeredReason,
    'no changed file matches the `on "push"` path filter "src/**", "docs/**", "!docs/drafts/**" (2 files changed: README.md, docs/drafts/idea.md)',
  );
});

test('a related change runs the pipeline; each stage runs for its own paths', () => {
  assert.deepEqual(skips(['src/app.ts']), { test: null, docs: 'when changes="docs/**": no changed file matches (1 file changed: src/app.ts)' });
  assert.deepEqual(skips(['docs/guide.md', 'src/app.ts']), { test: null, docs: null });
});

test('unknown changes (no list) never hide a run', () => {
  assert.deepEqual(skips(undefined), { test: null, docs: null });
});

test('the last matching glob decides; only exclusions match everything else', () => {
  const only = loadPipeline('pipeline "p" { on "push" paths="!*.md"; }\nstage "a" { image "x"; run "true"; }\n', 'p.kdl').spec!;
  assert.equal(plan(only, pushTrigger({ changedFiles: ['README.md'] })).triggered, false);
  assert.equal(plan(only, pushTrigger({ changedFiles: ['README.md', 'main.go'] })).triggered, true);
  assert.equal(plan(spec, pushTrigger({ changedFiles: ['docs/drafts/x.md', 'docs/real.md'] })).triggered, true);
});
