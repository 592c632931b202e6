import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { cliCacheDirFromEnv, cliConfigPathFromEnv, defaultImageFromEnv, remoteServerFromEnv } from './cli';

test('the CLI config file: BUILDIT_CONFIG, else an absolute XDG_CONFIG_HOME, else ~/.config', () => {
  assert.equal(cliConfigPathFromEnv({ BUILDIT_CONFIG: 'my.json', XDG_CONFIG_HOME: '/xdg' }), path.resolve('my.json'));
  assert.equal(cliConfigPathFromEnv({ XDG_CONFIG_HOME: '/xdg' }), '/xdg/buildit/config.json');
  assert.equal(cliConfigPathFromEnv({ XDG_CONFIG_HOME: 'relative' }), path.join(os.homedir(), '.config', 'buildit', 'config.json'));
  assert.equal(cliConfigPathFromEnv({ BUILDIT_CONFIG: '  ' }), path.join(os.homedir(), '.config', 'buildit', 'config.json'));
});

test('remote server from BUILDIT_URL and BUILDIT_TOKEN; blank values are unset', () => {
  assert.deepEqual(remoteServerFromEnv({ BUILDIT_URL: 'http://ci.example', BUILDIT_TOKEN: 'bk_x' }), { url: 'http://ci.example', token: 'bk_x' });
  assert.deepEqual(remoteServerFromEnv({ BUILDIT_URL: '', BUILDIT_TOKEN: ' ' }), {});
});

test('buildit run: default image and cache directory', () => {
  assert.equal(defaultImageFromEnv({ BUILDIT_DEFAULT_IMAGE: 'debian:12' }), 'debian:12');
  assert.equal(defaultImageFromEnv({}), undefined);
  assert.equal(cliCacheDirFromEnv({ BUILDIT_CACHE_DIR: 'caches' }), path.resolve('caches'));
  assert.equal(cliCacheDirFromEnv({}), path.join(os.homedir(), '.cache', 'buildit', 'caches'));
});
