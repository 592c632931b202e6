/**
 * Path filters in `buildit plan` and `buildit run` without `--changed`: the changed files come from real git
 * checkouts (a clone with its upstream, a branch compared with `--changed-since`, a directory outside git).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { commitFiles, createRepository, git } from '../tests/checkout/support';
import { dockerOrSkip } from '../tests/support/engines';
import { builditRun, exampleText, scratchDir, stageLines, stageStatuses } from '../tests/support/language-runs';

const BIN = path.resolve(import.meta.dirname, 'bin.mjs');

function plan(cwd: string, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, 'plan', 'buildit.kdl', '--branch', 'main', ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `origin` with the path-filters example on main, and a clone of it (`work`) that tracks it. */
async function cloneOfExample(dir: string): Promise<string> {
  const origin = path.join(dir, 'origin');
  createRepository(origin, { 'buildit.kdl': await exampleText('path-filters'), 'src/app.txt': 'v1\n', 'README.md': 'hello\n' });
  const work = path.join(dir, 'work');
  git(dir, 'clone', '--quiet', origin, work);
  return work;
}

test('by default the changes since the upstream count, the working tree included', async (t) => {
  const work = await cloneOfExample(await scratchDir(t, {}));
  commitFiles(work, { 'README.md': 'hello again\n' }, 'not pushed yet');
  const unrelated = plan(work);
  assert.equal(unrelated.code, 0, unrelated.stderr);
  assert.equal(unrelated.stderr, 'buildit plan: changed files since origin/main (working tree included): 1 file changed: README.md\n');
  assert.match(unrelated.stdout, /not triggered: no changed file matches the `on "push"` path filter .* \(1 file changed: README\.md\)/);

  writeFileSync(path.join(work, 'src', 'new.txt'), 'untracked\n');
  const related = plan(work);
  assert.equal(related.code, 0, related.stderr);
  assert.match(related.stdout, /\n {2}test: run in \S+\n/);
  assert.match(related.stdout, /docs: run in \S+ — skipped: when changes="docs\/\*\*": no changed file matches \(2 files changed: README\.md, src\/new\.txt\)/);
});

test('a branch without upstream is compared with the remote default branch, or with --changed-since', async (t) => {
  const work = await cloneOfExample(await scratchDir(t, {}));
  git(work, 'checkout', '--quiet', '-b', 'feature');
  commitFiles(work, { 'docs/guide.md': 'how to\n' }, 'a guide');
  commitFiles(work, { 'README.md': 'hello again\n' }, 'the readme');
  const fromDefault = plan(work);
  assert.equal(fromDefault.stderr, 'buildit plan: changed files since origin/main (working tree included): 2 files changed: README.md, docs/guide.md\n');
  assert.match(fromDefault.stdout, /test: run in \S+ — skipped: when changes="src\/\*\*"/);

  const sinceLast = plan(work, '--changed-since', 'HEAD~1');
  assert.equal(sinceLast.stderr, 'buildit plan: changed files since HEAD~1 (working tree included): 1 file changed: README.md\n');
  assert.match(sinceLast.stdout, /not triggered/);

  const unknownRef = plan(work, '--changed-since', 'no-such-branch');
  assert.equal(unknownRef.code, 2);
  assert.match(unknownRef.stderr, /--changed-since no-such-branch: "no-such-branch" is not a commit or branch of this checkout/);
  const both = plan(work, '--changed-since', 'main', '--changed', 'src/a.txt');
  assert.equal(both.code, 2);
  assert.match(both.stderr, /give --changed or --changed-since, not both/);
});

test('outside a git checkout the changes are unknown, so path filters hold, and the CLI says so', async (t) => {
  const dir = await scratchDir(t, { 'buildit.kdl': await exampleText('path-filters') });
  const result = plan(dir);
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stderr,
    /the changed files are unknown, so path filters hold: \S+ is not in a git checkout \(pass --changed FILE\.\.\. or --changed-since REF\)/,
  );
  assert.match(result.stdout, /2 stages, 0 skipped/);
  const explicit = plan(dir, '--changed', 'docs/a.md');
  assert.equal(explicit.stderr, '');
  assert.match(explicit.stdout, /2 stages, 1 skipped/);
});

test('buildit run runs the stage whose files changed in the working tree and skips the other (Docker)', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  const work = await cloneOfExample(await scratchDir(t, {}));
  writeFileSync(path.join(work, 'src', 'app.txt'), 'v2\n');
  const { code, events, stderr } = await builditRun([], work);
  assert.equal(code, 0, stderr);
  assert.match(stderr, /changed files since origin\/main \(working tree included\): 1 file changed: src\/app\.txt/);
  assert.deepEqual(stageStatuses(events), { test: 'succeeded', docs: 'skipped' });
  assert.deepEqual(stageLines(events, 'test'), ['testing the source']);
});
