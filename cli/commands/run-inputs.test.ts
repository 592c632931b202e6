import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors';
import { parsePairs, parseSecretArgs, parseSecretFile, readGit } from './run-inputs';

test('parsePairs keeps everything after the first = and rejects pairs without a name', () => {
  assert.deepEqual(parsePairs(['a=1', 'url=http://x/?q=1', 'a=2', 'empty='], '--var'), { a: '2', url: 'http://x/?q=1', empty: '' });
  assert.throws(() => parsePairs(['novalue'], '--var'), UsageError);
  assert.throws(() => parsePairs(['=x'], '--var'), /must look like NAME=VALUE/);
});

test('--secret NAME=VALUE, or NAME alone from the environment', () => {
  assert.deepEqual(parseSecretArgs(['A=x=y', 'B'], { B: 'from-env' }), { A: 'x=y', B: 'from-env' });
  assert.throws(() => parseSecretArgs(['MISSING'], {}), /no environment variable MISSING/);
  assert.throws(() => parseSecretArgs(['bad-name=1'], {}), /letters, digits and _/);
});

test('secret files: NAME=VALUE lines, comments, NAME<<EOF multi-line blocks', () => {
  const text = ['# comment', '', 'TOKEN=abc=def', 'KEY<<END', 'line one', '', 'line three', 'END', 'SPACED= value kept '].join('\n');
  assert.deepEqual(parseSecretFile(text, 's.env'), { TOKEN: 'abc=def', KEY: 'line one\n\nline three', SPACED: ' value kept ' });
  assert.throws(() => parseSecretFile('KEY<<EOF\nno end', 's.env'), /s\.env:1: KEY<<EOF is never closed/);
  assert.throws(() => parseSecretFile('just text', 's.env'), /s\.env:1: expected NAME=VALUE/);
});

test('secret files: a JSON object of strings', () => {
  assert.deepEqual(parseSecretFile('{"A": "x", "B": "multi\\nline"}', 's.json'), { A: 'x', B: 'multi\nline' });
  assert.throws(() => parseSecretFile('{"A": 1}', 's.json'), /string value/);
  assert.throws(() => parseSecretFile('{nope', 's.json'), /invalid JSON/);
});

test('readGit is empty outside a repository', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'buildit-nogit-'));
  try {
    assert.deepEqual(readGit(dir), {});
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
