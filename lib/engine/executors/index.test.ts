import { test } from 'node:test';
import assert from 'node:assert/strict';
import Docker from 'dockerode';
import { dockerOrSkip } from '../../../tests/support/engines';
import { HostStorage } from '../workspace/storage';
import { createExecutor, detectDockerAvailable, DockerExecutor, LocalExecutor } from './index';

test('createExecutor picks the implementation by name, on the storage given', () => {
  const storage = new HostStorage({ runsRoot: '/unused/runs', cacheRoot: '/unused/caches' });
  assert.ok(createExecutor('local', storage) instanceof LocalExecutor);
  const docker = createExecutor('docker', storage, { networkMode: 'host', pullPolicy: 'if-missing' });
  assert.ok(docker instanceof DockerExecutor);
  assert.equal(docker.networkMode, 'host');
  assert.equal(docker.pullPolicy, 'if-missing');
  assert.throws(() => createExecutor('docker', storage, { networkMode: 'bridge' as never }), /'none' or 'host'/);
  assert.throws(() => createExecutor('kubernetes' as never, storage), /unknown executor/);
});

test('detectDockerAvailable: false for an engine that does not answer', async () => {
  assert.equal(await detectDockerAvailable({ docker: new Docker({ socketPath: '/nonexistent/docker.sock' }), timeoutMs: 500 }), false);
});

test('detectDockerAvailable: true for the engine at DOCKER_HOST', async (t) => {
  const docker = await dockerOrSkip(t);
  if (!docker) return;
  assert.equal(await detectDockerAvailable(), true);
  assert.equal(await detectDockerAvailable({ docker }), true);
});
