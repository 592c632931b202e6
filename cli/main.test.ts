import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

test('zod and socket.io-client are loaded by the remote commands only, when they run', () => {
  // An ESM load hook in the child appends the URL of every module it loads to a file.
  const dir = mkdtempSync(path.join(tmpdir(), 'buildit-loads-'));
  const log = path.join(dir, 'modules.txt');
  const hook =
    'import { appendFileSync } from "node:fs"; export function load(url, context, next) { appendFileSync(process.env.LOAD_LOG, url + "\\n"); return next(url, context); }';
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
  const remoteOnly = /node_modules\/(zod|socket\.io-client)\//;
  const modulesLoadedBy = (args: string[], expectedStatus: number) => {
    rmSync(log, { force: true });
    const result = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, path.join(root, 'cli/bin.mjs'), ...args], {
      cwd: root,
      // No config file and no BUILDIT_URL: a remote command stops with a usage error before any request.
      env: { ...process.env, LOAD_LOG: log, BUILDIT_CONFIG: path.join(dir, 'none.json'), BUILDIT_URL: '', BUILDIT_TOKEN: '' },
      encoding: 'utf8',
    });
    assert.equal(result.status, expectedStatus, result.stderr);
    return readFileSync(log, 'utf8');
  };
  try {
    assert.doesNotMatch(modulesLoadedBy(['validate', 'examples/minimal.kdl'], 0), remoteOnly);
    assert.doesNotMatch(modulesLoadedBy(['--version'], 0), remoteOnly);
    assert.match(modulesLoadedBy(['runs', 'show', 'some-run'], 2), remoteOnly, 'the hook sees them when they are loaded');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
