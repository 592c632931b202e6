/**
 * What only the docker executor does (the shared contract is in contract.test.ts), against a real engine
 * (scripts/docker-engine.sh up; DOCKER_HOST). Image: local/busybox:latest only. Skipped without an engine
 * unless BUILDIT_REQUIRE_ENGINES=1.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { dockerOrSkip, TEST_IMAGE } from '../../../tests/support/engines';
import { HostStorage } from '../workspace/storage';
import { DockerExecutor, findContainersByLabel, removeContainersByLabel, type DockerExecutorOptions } from './docker';
import { ExecutorError, type ExecutorHandle, type LogLine, type StageJob } from './types';
import { stageJob } from '../../../tests/support/stage-jobs';

async function setup(t: TestContext) {
  const docker = await dockerOrSkip(t);
  if (!docker) return null;
  const root = await mkdtemp(path.join(tmpdir(), 'buildit-docker-'));
  const storage = new HostStorage({ runsRoot: path.join(root, 'runs'), cacheRoot: path.join(root, 'caches') });
  const runId = `test-${randomBytes(4).toString('hex')}`;
  await storage.prepareRun(runId);
  const dir = storage.workspaceDir(runId);
  t.after(async () => {
    await removeContainersByLabel(docker, { 'buildit.run': runId });
    await rm(root, { recursive: true, force: true });
  });
  /** A docker executor on this test's storage and engine. */
  const executor = (options: Omit<DockerExecutorOptions, 'storage' | 'docker'> = {}) => new DockerExecutor({ storage, docker, ...options });
  const job = (commands: string[], extra: Partial<StageJob> = {}): StageJob =>
    stageJob(runId, commands, { stageId: 'build[node=18]', image: TEST_IMAGE, ...extra });
  return { docker, storage, dir, runId, job, executor };
}

async function readLogs(executor: DockerExecutor, handle: ExecutorHandle, skipLines?: number): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  for await (const line of executor.logs(handle, { skipLines })) lines.push(line);
  return lines;
}

async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('docker: exit code, stdout/stderr lines, partial lines, env, workspace mount, labels, limits', async (t) => {
  const ctx = await setup(t);
  if (!ctx) return;
  const executor = ctx.executor();
  const handle = await executor.spawn(
    ctx.job(
      [
        'echo out1; echo err1 >&2; printf "a\\nb\\r\\npar"; sleep 0.05; printf "tial\\n"',
        'echo "$GREETING in $(pwd)"; echo made > made-in-stage.txt; printf no-newline',
      ],
      { env: { GREETING: 'hello world' }, labels: { 'buildit.pipeline': 'p1' }, resources: { memoryBytes: 64 * 1024 * 1024, nanoCpus: 500_000_000 } },
    ),
  );
  try {
    const info = await ctx.docker.getContainer(handle.id).inspect();
    assert.equal(info.Config.Labels['buildit.run'], ctx.runId);
    assert.equal(info.Config.Labels['buildit.stage'], 'build[node=18]');
    assert.equal(info.Config.Labels['buildit.attempt'], '1');
    assert.equal(info.Config.Labels['buildit.pipeline'], 'p1');
    assert.equal(info.HostConfig.Init, true);
    assert.equal(info.HostConfig.NetworkMode, 'none');
    assert.equal(info.HostConfig.Memory, 64 * 1024 * 1024);
    assert.equal(info.HostConfig.NanoCpus, 500_000_000);
    assert.equal(info.Config.WorkingDir, '/workspace');

    const lines = await readLogs(executor, handle);
    const result = await executor.wait(handle);
    assert.deepEqual(result, { exitCode: 0, oomKilled: false });
    assert.deepEqual(
      lines.filter((l) => l.stream === 'stdout').map((l) => l.line),
      ['out1', 'a', 'b', 'partial', 'hello world in /workspace', 'no-newline'],
    );
    assert.deepEqual(
      lines.filter((l) => l.stream === 'stderr').map((l) => l.line),
      ['err1'],
    );
    assert.equal(await readFile(path.join(ctx.dir, 'made-in-stage.txt'), 'utf8'), 'made\n');
  } finally {
    await executor.destroy(handle);
    await executor.destroy(handle); // idempotent
  }
  assert.deepEqual(await findContainersByLabel(ctx.docker, { 'buildit.run': ctx.runId }), []);

  // `sh -e`, first failure wins, later commands do not run.
  const failing = await executor.spawn(ctx.job(['echo first; false; echo not-reached', 'echo never'], { attempt: 2 }));
  const failedLines = await readLogs(executor, failing);
  assert.deepEqual(await executor.wait(failing), { exitCode: 1, oomKilled: false });
  assert.deepEqual(
    failedLines.map((l) => l.line),
    ['first'],
  );
  await executor.destroy(failing);

  const seven = await executor.spawn(ctx.job(['exit 7'], { attempt: 3 }));
  assert.equal((await executor.wait(seven)).exitCode, 7);
  await executor.destroy(seven);
});

test('docker: a missing image fails with image_missing, says how to get it, and never pulls', async (t) => {
  const ctx = await setup(t);
  if (!ctx) return;
  const executor = ctx.executor();
  await assert.rejects(executor.spawn(ctx.job(['true'], { image: 'local/not-there:1.0' })), (error: unknown) => {
    assert.ok(error instanceof ExecutorError);
    assert.equal(error.code, 'image_missing');
    assert.match(error.message, /"local\/not-there:1\.0"/);
    assert.match(error.message, /docker pull local\/not-there:1\.0/);
    assert.match(error.message, /docker load/);
    assert.match(error.message, /pull policy/);
    return true;
  });
  // A missing service image is caught before anything is created.
  await assert.rejects(
    executor.spawn(ctx.job(['true'], { services: [{ name: 'db', image: 'local/no-db:1', env: {} }] })),
    (error: unknown) => error instanceof ExecutorError && error.code === 'image_missing' && /local\/no-db:1/.test(error.message),
  );
  assert.deepEqual(await findContainersByLabel(ctx.docker, { 'buildit.run': ctx.runId }), []);
  await assert.rejects(ctx.docker.getImage('local/not-there:1.0').inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
});

test('docker: a service sidecar on the host network is reachable on loopback (and by name) and removed after', async (t) => {
  const ctx = await setup(t);
  if (!ctx) return;
  const executor = ctx.executor({ networkMode: 'host' });
  const port = await freeLoopbackPort();
  const handle = await executor.spawn(
    ctx.job(
      [
        // The service may need a moment to listen: retry for up to 5 s.
        `for i in $(seq 1 50); do if wget -q -O - http://127.0.0.1:${port}/group; then break; fi; sleep 0.1; done`,
        `wget -q -O - http://web:${port}/group | head -n1 | sed s/^/by-name:/`,
      ],
      {
        services: [{ name: 'web', image: TEST_IMAGE, env: { SERVICE_ENV: '1' }, command: ['httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', '/etc'] }],
      },
    ),
  );
  try {
    assert.equal(handle.related.length, 1);
    const service = await ctx.docker.getContainer(handle.related[0]!).inspect();
    assert.equal(service.Config.Labels['buildit.role'], 'service');
    assert.equal(service.Config.Labels['buildit.service'], 'web');
    assert.equal(service.Config.Labels['buildit.run'], ctx.runId);
    assert.equal(service.HostConfig.NetworkMode, 'host');
    const lines = await readLogs(executor, handle);
    const result = await executor.wait(handle);
    assert.equal(result.exitCode, 0, JSON.stringify(lines));
    assert.ok(
      lines.some((l) => l.line === 'root:x:0:'),
      JSON.stringify(lines),
    );
    assert.ok(
      lines.some((l) => l.line === 'by-name:root:x:0:'),
      JSON.stringify(lines),
    );
  } finally {
    await executor.destroy(handle);
  }
  assert.deepEqual(await findContainersByLabel(ctx.docker, { 'buildit.run': ctx.runId }), []);
});

test('docker: cancel stops the stage within seconds, lets commands clean up, and destroy leaves no container', async (t) => {
  const ctx = await setup(t);
  if (!ctx) return;
  const executor = ctx.executor({ stopGraceSeconds: 3 });
  const handle = await executor.spawn(ctx.job(['trap "echo cleaning-up; exit 0" TERM; echo started; sleep 300 & wait', 'echo never']));
  const iterator = executor.logs(handle)[Symbol.asyncIterator]();
  assert.deepEqual((await iterator.next()).value, { stream: 'stdout', line: 'started' });
  const started = Date.now();
  await executor.cancel(handle);
  await executor.cancel(handle); // idempotent
  const result = await executor.wait(handle);
  const elapsed = Date.now() - started;
  const rest: string[] = [];
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest.push(next.value.line);
  assert.ok(elapsed < 5000, `cancel took ${elapsed} ms`);
  assert.equal(result.exitCode, 143);
  assert.deepEqual(rest, ['cleaning-up']);
  await executor.destroy(handle);
  assert.deepEqual(await findContainersByLabel(ctx.docker, { 'buildit.run': ctx.runId }), []);
  t.diagnostic(`cancel -> exited in ${elapsed} ms`);

  // Cancel after exit and after destroy is harmless.
  await executor.cancel(handle);
});

test('docker: exceeding the memory limit is an OOM kill (137, oomKilled)', async (t) => {
  const ctx = await setup(t);
  if (!ctx) return;
  const executor = ctx.executor();
  const handle = await executor.spawn(ctx.job(['dd if=/dev/zero of=/dev/null bs=128M count=1'], { resources: { memoryBytes: 32 * 1024 * 1024 } }));
  try {
    await readLogs(executor, handle);
    const result = await executor.wait(handle);
    assert.deepEqual(result, { exitCode: 137, oomKilled: true });
  } finally {
    await executor.destroy(handle);
  }
});

test('docker: a restarted worker re-attaches to a running stage with skipLines and gets no duplicates', async (t) => {
  const ctx = await setup(t);
  if (!ctx) return;
  const first = ctx.executor();
  const original = await first.spawn(
    ctx.job(['echo line1; echo line2; echo err3 >&2; sleep 1; echo line4; echo line5 >&2'], { stageId: 'deploy', attempt: 2 }),
  );
  // The first worker reads three lines, then "crashes" (stops reading).
  const seen: LogLine[] = [];
  for await (const line of first.logs(original)) {
    seen.push(line);
    if (seen.length === 3) break;
  }
  // Docker copies stdout and stderr separately, so only the order within a stream is fixed.
  assert.deepEqual(
    seen.filter((l) => l.stream === 'stdout').map((l) => l.line),
    ['line1', 'line2'],
  );
  assert.deepEqual(
    seen.filter((l) => l.stream === 'stderr').map((l) => l.line),
    ['err3'],
  );

  const second = ctx.executor();
  const recovered = await second.recover({ runId: ctx.runId, stageId: 'deploy', attempt: 2 });
  assert.ok(recovered);
  assert.equal(recovered.id, original.id);
  const rest = await readLogs(second, recovered, seen.length);
  assert.deepEqual(
    [...rest].sort((a, b) => a.line.localeCompare(b.line)),
    [
      { stream: 'stdout', line: 'line4' },
      { stream: 'stderr', line: 'line5' },
    ],
  );
  assert.deepEqual(await second.wait(recovered), { exitCode: 0, oomKilled: false });
  // Every reader sees the engine's stored order, so the first lines + the rest are the full log once.
  const full = await readLogs(ctx.executor(), recovered);
  assert.deepEqual([...seen, ...rest], full);
  await second.destroy(recovered);
  assert.equal(await second.recover({ runId: ctx.runId, stageId: 'deploy', attempt: 2 }), null);
});

test('docker: volume mounts (relative under /workspace, absolute, read-only) and cost of a container stage', async (t) => {
  const ctx = await setup(t);
  if (!ctx) return;
  const executor = ctx.executor();
  const handle = await executor
    .spawn(
      ctx.job(['echo a > .cache/a; echo b > /cache-abs/b; if echo c > /ro/c 2>/dev/null; then echo writable; else echo read-only; fi'], {
        mounts: [
          { volume: 'rel', path: '.cache' },
          { volume: 'abs', path: '/cache-abs' },
          { volume: 'ro', path: '/ro', readOnly: true },
        ],
      }),
    )
    .catch(async (error) => {
      throw error;
    });
  const lines = await readLogs(executor, handle);
  assert.equal((await executor.wait(handle)).exitCode, 0, JSON.stringify(lines));
  await executor.destroy(handle);
  assert.deepEqual(
    lines.filter((l) => l.stream === 'stdout').map((l) => l.line),
    ['read-only'],
  );
  assert.equal(await readFile(path.join(ctx.storage.volumeDir('rel'), 'a'), 'utf8'), 'a\n');
  assert.equal(await readFile(path.join(ctx.storage.volumeDir('abs'), 'b'), 'utf8'), 'b\n');

  // Cost of one container stage: spawn + logs + wait + destroy of `true`.
  const rounds = 5;
  const started = Date.now();
  for (let i = 0; i < rounds; i++) {
    const h = await executor.spawn(ctx.job(['true'], { stageId: `cost-${i}` }));
    await readLogs(executor, h);
    await executor.wait(h);
    await executor.destroy(h);
  }
  t.diagnostic(`container stage (spawn+logs+wait+destroy of true): ${((Date.now() - started) / rounds).toFixed(0)} ms average over ${rounds}`);
});

test('docker: an engine that does not answer is engine_unavailable', async (t) => {
  const root = await mkdtemp(path.join(tmpdir(), 'buildit-docker-unavailable-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const storage = new HostStorage({ runsRoot: path.join(root, 'runs'), cacheRoot: path.join(root, 'caches') });
  await storage.prepareRun('r');
  const executor = new DockerExecutor({ storage, dockerOptions: { socketPath: '/nonexistent/buildit/docker.sock' } });
  await assert.rejects(
    executor.spawn({ runId: 'r', stageId: 's', attempt: 1, image: TEST_IMAGE, commands: ['true'], env: {}, services: [], mounts: [], labels: {} }),
    (error: unknown) => error instanceof ExecutorError && error.code === 'engine_unavailable' && /docker-engine\.sh up/.test(error.message),
  );
});
