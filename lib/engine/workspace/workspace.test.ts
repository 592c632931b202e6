import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalExecutor } from '../executors/local';
import { DockerExecutor, removeContainersByLabel } from '../executors/docker';
import { dockerOrSkip, TEST_IMAGE } from '../../../tests/support/engines';
import type { StageJob } from '../executors/types';
import { CacheStore, collectArtifacts, HostStorage, listArtifacts, restoreArtifacts } from './index';

async function tempDir(t: { after(fn: () => Promise<void>): void }, prefix = 'buildit-ws-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A run's storage under `base`, prepared like an executor's setupRun does (optionally with a copy of `sourceDir`). */
async function preparedRun(base: string, runId: string, sourceDir?: string): Promise<{ storage: HostStorage; dir: string; artifactsDir: string }> {
  const storage = new HostStorage({ runsRoot: path.join(base, 'runs'), cacheRoot: path.join(base, 'cache') });
  await storage.prepareRun(runId);
  if (sourceDir) await storage.copySource(runId, sourceDir);
  return { storage, dir: storage.workspaceDir(runId), artifactsDir: storage.artifactsDir(runId) };
}

/** The directory of a cache lease's mount (volumes are named relative to the store's root). */
const mountDir = (store: CacheStore, mount: StageJob['mounts'][number]) => path.join(store.root, mount.volume);

async function write(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
}

test('HostStorage copies the source except .git, keeps modes and symlinks, and removeRun deletes it', async (t) => {
  const base = await tempDir(t);
  const source = path.join(base, 'repo');
  await write(path.join(source, 'src/index.ts'), 'export {};\n');
  await write(path.join(source, 'node_modules/dep/index.js'), 'module.exports = 1;\n');
  await write(path.join(source, '.git/HEAD'), 'ref: refs/heads/main\n');
  await write(path.join(source, '.env.example'), 'A=1\n');
  await write(path.join(source, 'run.sh'), '#!/bin/sh\necho hi\n');
  await import('node:fs/promises').then((fs) => fs.chmod(path.join(source, 'run.sh'), 0o755));
  await symlink('src/index.ts', path.join(source, 'link.ts'));

  const ws = await preparedRun(base, 'run-1', source);
  assert.equal(ws.dir, path.join(base, 'runs', 'run-1', 'workspace'));
  assert.equal(ws.artifactsDir, path.join(base, 'runs', 'run-1', 'artifacts'));
  assert.deepEqual((await readdir(ws.dir)).sort(), ['.env.example', 'link.ts', 'node_modules', 'run.sh', 'src']);
  assert.equal(await readFile(path.join(ws.dir, 'node_modules/dep/index.js'), 'utf8'), 'module.exports = 1;\n');
  assert.equal((await stat(path.join(ws.dir, 'run.sh'))).mode & 0o777, 0o755);
  assert.equal(await readFile(path.join(ws.dir, 'link.ts'), 'utf8'), 'export {};\n');
  await ws.storage.removeRun('run-1');
  await ws.storage.removeRun('run-1');
  await assert.rejects(stat(path.join(base, 'runs', 'run-1')), { code: 'ENOENT' });

  // The runs root may live inside the source (e.g. .buildit/runs in a repo): it is not copied into itself.
  const nested = new HostStorage({ runsRoot: path.join(source, '.buildit-runs'), cacheRoot: path.join(base, 'cache') });
  await nested.copySource('run-2', source);
  assert.ok(!(await readdir(nested.workspaceDir('run-2'))).includes('.buildit-runs'));
  await nested.removeRun('run-2');

  assert.throws(() => ws.storage.workspaceDir('../escape'), /cannot be used as a directory name/);
  await assert.rejects(ws.storage.copySource('r', path.join(base, 'missing')), /does not exist/);
  assert.throws(() => ws.storage.volumeDir('../../etc'), /not inside the cache storage/);
});

test('HostStorage in a git work tree copies what git sees: tracked and untracked files, not ignored ones', async (t) => {
  const base = await tempDir(t);
  const source = path.join(base, 'repo');
  await write(path.join(source, '.gitignore'), 'node_modules/\ndist/\n');
  await write(path.join(source, 'src/index.ts'), 'export {};\n');
  await write(path.join(source, 'gone.txt'), 'deleted after commit\n');
  const git = (...args: string[]) => execFileSync('git', ['-C', source, ...args], { stdio: 'pipe' });
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'init');
  await rm(path.join(source, 'gone.txt'));
  await write(path.join(source, 'notes/new.md'), 'untracked, not ignored\n');
  await write(path.join(source, 'node_modules/dep/index.js'), 'ignored\n');
  await write(path.join(source, 'dist/app.js'), 'ignored\n');

  const storage = new HostStorage({ runsRoot: path.join(source, '.buildit-runs'), cacheRoot: path.join(base, 'cache') });
  await storage.copySource('run-git', source);
  const dir = storage.workspaceDir('run-git');
  assert.deepEqual((await readdir(dir)).sort(), ['.gitignore', 'notes', 'src']);
  assert.equal(await readFile(path.join(dir, 'notes/new.md'), 'utf8'), 'untracked, not ignored\n');
  assert.equal(await readFile(path.join(dir, 'src/index.ts'), 'utf8'), 'export {};\n');
  await storage.removeRun('run-git');
});

test('artifacts: collect by glob under the stage id, then restore into another workspace', async (t) => {
  const base = await tempDir(t);
  const producer = await preparedRun(base, 'producer');
  await write(path.join(producer.dir, 'dist/app.js'), 'app');
  await write(path.join(producer.dir, 'dist/nested/deep.js'), 'deep');
  await write(path.join(producer.dir, 'dist/.hidden'), 'hidden');
  await write(path.join(producer.dir, 'dist/app.js.map'), 'map');
  await write(path.join(producer.dir, 'coverage/lcov.info'), 'lcov');
  await write(path.join(producer.dir, 'reports/a.xml'), 'a');
  await write(path.join(producer.dir, 'reports/sub/b.xml'), 'bb');
  await write(path.join(producer.dir, 'src/ignored.ts'), 'no');
  await symlink(path.join(producer.dir, 'dist'), path.join(producer.dir, 'dist/loop'));

  const stageId = 'build[node=18]';
  const counted = await collectArtifacts({
    workspace: producer.dir,
    patterns: ['dist/**/*.js', 'dist/.hidden', 'coverage', 'reports/**/*.xml', 'missing/**'],
    artifactsDir: producer.artifactsDir,
    stageId,
  });
  assert.deepEqual(await listArtifacts(producer.artifactsDir, stageId), [
    'coverage/lcov.info',
    'dist/.hidden',
    'dist/app.js',
    'dist/nested/deep.js',
    'reports/a.xml',
    'reports/sub/b.xml',
  ]);
  assert.deepEqual(counted, { files: 6, bytes: 'lcov'.length + 'hidden'.length + 'app'.length + 'deep'.length + 1 + 2 });

  // A retried stage replaces its earlier artifacts.
  await rm(path.join(producer.dir, 'reports'), { recursive: true });
  await collectArtifacts({ workspace: producer.dir, patterns: ['dist/*.js', 'reports/**'], artifactsDir: producer.artifactsDir, stageId });
  assert.deepEqual(await listArtifacts(producer.artifactsDir, stageId), ['dist/app.js']);
  await collectArtifacts({ workspace: producer.dir, patterns: ['coverage/**'], artifactsDir: producer.artifactsDir, stageId: 'test' });

  const consumer = path.join(base, 'consumer');
  await write(path.join(consumer, 'dist/app.js'), 'stale');
  const restored = await restoreArtifacts({ workspace: consumer, artifactsDir: producer.artifactsDir, stageIds: [stageId, 'test', 'no-artifacts'] });
  assert.deepEqual(restored, { files: 2, bytes: 3 + 4 });
  assert.equal(await readFile(path.join(consumer, 'dist/app.js'), 'utf8'), 'app');
  assert.equal(await readFile(path.join(consumer, 'coverage/lcov.info'), 'utf8'), 'lcov');

  await assert.rejects(
    collectArtifacts({ workspace: producer.dir, patterns: ['../etc/**'], artifactsDir: producer.artifactsDir, stageId }),
    /must be relative to the workspace/,
  );
});

function localJob(runId: string, commands: string[], mounts: StageJob['mounts']): StageJob {
  return { runId, stageId: 's', attempt: 1, image: null, commands, env: {}, services: [], mounts, labels: {} };
}

async function runLocal(storage: HostStorage, job: StageJob): Promise<string[]> {
  const executor = new LocalExecutor({ storage });
  const handle = await executor.spawn(job);
  const lines: string[] = [];
  for await (const line of executor.logs(handle)) lines.push(line.line);
  const result = await executor.wait(handle);
  await executor.destroy(handle);
  assert.equal(result.exitCode, 0, lines.join('\n'));
  return lines;
}

test('cache: a second run with the same key gets what the first saved (local executor, through the mounts)', async (t) => {
  const base = await tempDir(t);
  const store = new CacheStore(path.join(base, 'cache'));
  const { storage } = await preparedRun(base, 'one');
  await storage.prepareRun('two');

  const first = await store.prepare({ key: 'npm-abc', paths: ['node_modules', '.cache/tool'], executor: 'local' });
  assert.equal(first.hit, false);
  const out1 = await runLocal(
    storage,
    localJob('one', ['ls node_modules | wc -l; echo v1 > node_modules/dep.txt; echo tool > .cache/tool/state'], first.mounts),
  );
  assert.deepEqual(
    out1.map((l) => l.trim()),
    ['0'],
  );
  await first.save();
  await first.release();
  await first.release();

  const second = await store.prepare({ key: 'npm-abc', paths: ['node_modules', '.cache/tool'], executor: 'local' });
  assert.equal(second.hit, true);
  const out2 = await runLocal(storage, localJob('two', ['cat node_modules/dep.txt .cache/tool/state; echo v2 > node_modules/dep.txt'], second.mounts));
  assert.deepEqual(out2, ['v1', 'tool']);
  // Not saved (e.g. the stage failed): the stored copy stays v1.
  await second.release();

  const third = await store.prepare({ key: 'npm-abc', paths: ['node_modules'], executor: 'local' });
  assert.equal(await readFile(path.join(mountDir(store, third.mounts[0]!), 'dep.txt'), 'utf8'), 'v1\n');
  await third.release();

  const other = await store.prepare({ key: 'npm-other', paths: ['node_modules'], executor: 'local' });
  assert.equal(other.hit, false);
  await other.release();

  // On local an absolute path is the host's own (persistent) directory: left alone.
  const hostDir = await store.prepare({ key: 'k', paths: ['/root/.npm', 'vendor'], executor: 'local' });
  assert.deepEqual(
    hostDir.mounts.map((m) => m.path),
    ['vendor'],
  );
  await hostDir.release();
  await assert.rejects(store.prepare({ key: 'k', paths: ['../x'], executor: 'docker' }), /'\.\.'/);
  const docker = await store.prepare({ key: 'k', paths: ['/root/.npm'], executor: 'docker' });
  assert.equal(docker.mounts[0]!.path, '/root/.npm');
  await docker.release();
});

test('cache: concurrent saves of one key are serialized (one writer) and the last one wins atomically', async (t) => {
  const base = await tempDir(t);
  const store = new CacheStore(path.join(base, 'cache'), { pollMs: 10 });
  const leases = await Promise.all(
    [1, 2, 3, 4].map(async (n) => {
      const lease = await store.prepare({ key: 'shared', paths: ['data'], executor: 'docker' });
      for (let i = 0; i < 20; i++) await writeFile(path.join(mountDir(store, lease.mounts[0]!), `file-${i}`), `writer-${n}`);
      return lease;
    }),
  );
  // Observe the lock while the saves run: never more than one holder.
  const lockDir = path.join(base, 'cache', 'locks');
  let maxHolders = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const holders = (await readdir(lockDir).catch(() => [])).filter((n) => n.endsWith('.lock')).length;
      maxHolders = Math.max(maxHolders, holders);
      await new Promise((r) => setImmediate(r));
    }
  })();
  await Promise.all(leases.map((lease) => lease.save()));
  sampling = false;
  await sampler;
  assert.ok(maxHolders <= 1);
  const after = await store.prepare({ key: 'shared', paths: ['data'], executor: 'docker' });
  const afterDir = mountDir(store, after.mounts[0]!);
  const contents = new Set(await Promise.all((await readdir(afterDir)).map((f) => readFile(path.join(afterDir, f), 'utf8'))));
  assert.equal(contents.size, 1, "one writer's complete copy, never a mix");
  await after.release();
  await Promise.all(leases.map((lease) => lease.release()));
  // Only the current and the previous version are kept.
  const entries = await readdir(path.join(base, 'cache', 'entries'));
  assert.equal(entries.length, 1);
  const versions = (await readdir(path.join(base, 'cache', 'entries', entries[0]!))).filter((n) => n.startsWith('v-'));
  assert.equal(versions.length, 2);
});

test("cache lock: held across processes, waits for the holder, and breaks a dead holder's stale lock", async (t) => {
  const base = await tempDir(t);
  const root = path.join(base, 'cache');
  const store = new CacheStore(root, { pollMs: 10, lockTimeoutMs: 10_000 });
  // The helper lives in the temp dir and imports cache.ts by absolute path.
  const helper = path.join(base, 'lock-helper.mts');
  const cacheModule = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cache.ts');
  await writeFile(
    helper,
    `import { CacheStore } from ${JSON.stringify(cacheModule)};\n` +
      `const store = new CacheStore(process.argv[2]!);\n` +
      `const release = await store.lockFor('shared').acquire();\n` +
      `console.log('locked');\n` +
      `if (process.argv[3] === 'crash') process.exit(0);\n` +
      `setTimeout(async () => { await release(); console.log('released'); }, Number(process.argv[3]));\n`,
  );
  t.after(() => rm(helper, { force: true }));
  const startHelper = (arg: string) => {
    const child = spawn(process.execPath, ['--import', 'tsx', helper, root, arg], { stdio: ['ignore', 'pipe', 'inherit'] });
    const locked = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
      child.once('exit', (code) => reject(new Error(`helper exited ${code} before locking`)));
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    return { locked, exited };
  };

  // Another process holds the lock for 600 ms: our save waits for it.
  const holder = startHelper('600');
  await holder.locked;
  const lease = await store.prepare({ key: 'shared', paths: ['data'], executor: 'docker' });
  await writeFile(path.join(mountDir(store, lease.mounts[0]!), 'x'), 'x');
  const started = Date.now();
  await lease.save();
  const waited = Date.now() - started;
  assert.ok(waited >= 300, `save waited only ${waited} ms for the other process`);
  await holder.exited;
  await lease.release();

  // A holder that died without releasing: its lock is broken (its pid is gone on this host).
  const crashed = startHelper('crash');
  await crashed.locked;
  await crashed.exited;
  assert.ok(
    (await readdir(path.join(root, 'locks'))).some((n) => n.endsWith('.lock')),
    'the dead holder left its lock',
  );
  const quick = Date.now();
  await store.withKeyLock('shared', async () => undefined);
  assert.ok(Date.now() - quick < 2000);

  // A lock from another host (pid unknown here) is broken once it is not refreshed for staleLockMs.
  const strict = new CacheStore(root, { pollMs: 10, staleLockMs: 300, lockTimeoutMs: 5000 });
  const release = await strict.lockFor('shared').acquire();
  const heldLock = path.join(
    root,
    'locks',
    (await readdir(path.join(root, 'locks'))).find((n) => n.endsWith('.lock'))!,
  );
  // Still refreshed by its (live) holder: a waiter does not break it.
  await new Promise((r) => setTimeout(r, 500));
  await assert.rejects(
    new CacheStore(root, { pollMs: 10, staleLockMs: 300, lockTimeoutMs: 400 }).withKeyLock('shared', async () => undefined),
    /still held/,
  );
  await release();
  // Now a holder on a machine that went away: owner on another host, no heartbeat, old mtime.
  await mkdir(heldLock);
  await writeFile(path.join(heldLock, 'owner.json'), JSON.stringify({ token: 'gone', pid: 999999, host: 'another-host', since: '2020-01-01T00:00:00Z' }));
  const before = Date.now();
  await strict.withKeyLock('shared', async () => undefined);
  const tookOver = Date.now() - before;
  assert.ok(tookOver >= 250 && tookOver < 3000, `took over after ${tookOver} ms`);
});

test('docker: a stage builds into the run workspace, its artifacts reach the next stage, its cache the next run', async (t) => {
  const docker = await dockerOrSkip(t);
  if (!docker) return;
  const base = await tempDir(t);
  const source = path.join(base, 'repo');
  await write(path.join(source, 'src/main.txt'), 'source\n');
  const storage = new HostStorage({ runsRoot: path.join(base, 'runs'), cacheRoot: path.join(base, 'cache') });
  const store = new CacheStore(storage.cacheRoot);
  const executor = new DockerExecutor({ storage, docker });
  t.after(() => removeContainersByLabel(docker, { 'buildit.pipeline': 'workspace-test' }).then(() => undefined));

  const runStage = async (runId: string, stageId: string, commands: string[], mounts: StageJob['mounts']) => {
    const handle = await executor.spawn({
      runId,
      stageId,
      attempt: 1,
      image: TEST_IMAGE,
      commands,
      env: {},
      services: [],
      mounts,
      labels: { 'buildit.pipeline': 'workspace-test' },
    });
    const lines: string[] = [];
    for await (const line of executor.logs(handle)) lines.push(line.line);
    const result = await executor.wait(handle);
    await executor.destroy(handle);
    assert.equal(result.exitCode, 0, lines.join('\n'));
    return lines;
  };

  for (const [runId, expectedCache] of [
    ['run-a', 'empty'],
    ['run-b', 'warm from run-a'],
  ] as const) {
    await storage.copySource(runId, source);
    const ws = { dir: storage.workspaceDir(runId), artifactsDir: storage.artifactsDir(runId) };
    const cache = await store.prepare({ key: 'deps-v1', paths: ['/root/.deps'], executor: 'docker' });
    const built = await runStage(
      runId,
      'build',
      [
        'cat /root/.deps/state 2>/dev/null || echo empty',
        `echo "warm from ${runId}" > /root/.deps/state`,
        'mkdir -p dist && tr a-z A-Z < src/main.txt > dist/out.txt',
      ],
      cache.mounts,
    );
    assert.deepEqual(built, [expectedCache]);
    if (runId === 'run-a') await cache.save();
    await cache.release();
    assert.deepEqual(await collectArtifacts({ workspace: ws.dir, patterns: ['dist/**'], artifactsDir: ws.artifactsDir, stageId: 'build' }), {
      files: 1,
      bytes: 7,
    });
    // The next stage runs in a clean workspace of its own here (another run), to prove the artifact travels.
    const next = `${runId}-next`;
    await storage.prepareRun(next);
    await restoreArtifacts({ workspace: storage.workspaceDir(next), artifactsDir: ws.artifactsDir, stageIds: ['build'] });
    assert.deepEqual(await runStage(next, 'package', ['cat dist/out.txt'], []), ['SOURCE']);
    await storage.removeRun(runId);
  }
});
