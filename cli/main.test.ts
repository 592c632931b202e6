import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };

/** Runs the installed `buildit` bin the way `npx buildit` does (node_modules/.bin/buildit). */
function buildit(...args: string[]) {
  return spawnSync(path.join(root, 'node_modules/.bin/buildit'), args, { cwd: root, encoding: 'utf8' });
}

test('buildit --help lists usage and exits 0', () => {
  const result = buildit('--help');
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^Usage: buildit \[options\]/m);
  assert.match(result.stdout, /--version/);
});

test('buildit --version prints the package version', () => {
  const result = buildit('--version');
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), version);
});

test('an unknown option is a usage error: exit 2 with a pointer to --help', () => {
  const result = buildit('--no-such-option');
  assert.equal(result.status, 2);
  assert.match(result.stderr, /unknown option '--no-such-option'/);
  assert.match(result.stderr, /buildit --help/);
});
