import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, utimesSync, writeFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { asksForInit, initCacheEntry, restoreInit, REUSE_MS, saveInit } from './init-cache';

const scratch = () => mkdtempSync(path.join(tmpdir(), 'buildit-init-cache-'));

/** A directory as `terraform init` leaves it: `.terraform` (a provider linked into the plugin cache) and a lock file. */
function initialized(lock: string): string {
  const dir = scratch();
  mkdirSync(path.join(dir, '.terraform', 'providers'), { recursive: true });
  writeFileSync(path.join(dir, '.terraform', 'terraform.tfstate'), '{"backend":{"type":"http"}}');
  symlinkSync('/plugin-cache/null/3.2.0', path.join(dir, '.terraform', 'providers', 'null'));
  writeFileSync(path.join(dir, '.terraform.lock.hcl'), lock);
  return dir;
}

test('the kept init is copied into a fresh directory, links as they were; a configuration’s own lock file wins', async () => {
  const root = scratch();
  const key = { binary: process.execPath, backendOverride: 'terraform { backend "http" {} }', configPath: '.' };
  const entry = (await initCacheEntry(root, key))!;
  assert.ok(entry.startsWith(root));
  assert.equal(await restoreInit(entry, scratch()), false, 'nothing kept yet');
  await saveInit(entry, initialized('kept lock'));

  const fresh = scratch();
  assert.equal(await restoreInit(entry, fresh), true);
  assert.equal(readFileSync(path.join(fresh, '.terraform', 'terraform.tfstate'), 'utf8'), '{"backend":{"type":"http"}}');
  assert.equal(readlinkSync(path.join(fresh, '.terraform', 'providers', 'null')), '/plugin-cache/null/3.2.0');
  assert.equal(readFileSync(path.join(fresh, '.terraform.lock.hcl'), 'utf8'), 'kept lock');

  const ownLock = scratch();
  writeFileSync(path.join(ownLock, '.terraform.lock.hcl'), 'committed lock');
  assert.equal(await restoreInit(entry, ownLock), true);
  assert.equal(readFileSync(path.join(ownLock, '.terraform.lock.hcl'), 'utf8'), 'committed lock');

  // A configuration that brings a `.terraform` of its own is left alone (it gets a real init).
  const ownDir = scratch();
  mkdirSync(path.join(ownDir, '.terraform'));
  assert.equal(await restoreInit(entry, ownDir), false);
});

test('the key follows the binary, the backend and the path; a missing binary has no key', async () => {
  const root = scratch();
  const base = { binary: process.execPath, backendOverride: 'a', configPath: '.' };
  const entry = await initCacheEntry(root, base);
  assert.equal(await initCacheEntry(root, { ...base }), entry);
  assert.notEqual(await initCacheEntry(root, { ...base, backendOverride: 'b' }), entry);
  assert.notEqual(await initCacheEntry(root, { ...base, configPath: 'infra' }), entry);
  assert.equal(await initCacheEntry(root, { ...base, binary: path.join(scratch(), 'no-such-terraform') }), null);
});

test('a kept init expires after REUSE_MS and is removed by the next save', async () => {
  const root = scratch();
  const old = (await initCacheEntry(root, { binary: process.execPath, backendOverride: 'old', configPath: '.' }))!;
  await saveInit(old, initialized('lock'));
  const past = (Date.now() - REUSE_MS - 60_000) / 1000;
  utimesSync(old, past, past);
  assert.equal(await restoreInit(old, scratch()), false);
  const other = (await initCacheEntry(root, { binary: process.execPath, backendOverride: 'new', configPath: '.' }))!;
  await saveInit(other, initialized('lock'));
  assert.equal(existsSync(old), false);
  assert.equal(existsSync(other), true);
});

test('terraform’s and OpenTofu’s requests for init are recognized', () => {
  assert.ok(asksForInit('{"@level":"error","diagnostic":{"detail":"This module is not yet installed. Run \\"terraform init\\" to install"}}'));
  assert.ok(asksForInit('Error: Backend initialization required: please run "tofu init"'));
  assert.ok(!asksForInit('terraform_data.a: Plan to create'));
});
