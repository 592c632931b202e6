/** What only the local executor does (the shared contract is in contract.test.ts): process groups on the host, cache volumes placed in the workspace. */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HostStorage } from '../workspace/storage';
import { LocalExecutor } from './local';
import { ExecutorError, type Executor, type LogLine, type StageJob } from './types';
import { stageJob } from '../../../tests/support/stage-jobs';

async function setup(t: TestContext, options: { graceMs?: number; shell?: string } = {}) {
  const root = await mkdtemp(path.join(tmpdir(), 'buildit-local-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const storage = new HostStorage({ runsRoot: path.join(root, 'runs'), cacheRoot: path.join(root, 'caches') });
  const executor = new LocalExecutor({ storage, ...options });
  await executor.setupRun({ runId: 'run-local' });
  const dir = storage.workspaceDir('run-local');
  const job = (commands: string[], extra: Partial<StageJob> = {}): StageJob => stageJob('run-local', commands, extra);
  return { executor, storage, dir, job };
}

async function runToEnd(executor: Executor, stage: StageJob) {
  const handle = await executor.spawn(stage);
  try {
    const lines: LogLine[] = [];
    for await (const line of executor.logs(handle)) lines.push(line);
    return { lines, result: await executor.wait(handle) };
  } finally {
    await executor.destroy(handle);
  }
}

/** Alive and not a zombie (PID 1 here does not always reap orphans at once). */
const processAlive = async (pid: number) => {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
};

/**
 * Whether `pid` is gone within a second. A signal sent to a whole process group reaches every member, but
 * each dies when it is next scheduled: on a busy machine a member can outlive the group leader briefly.
 */
const diesSoon = async (pid: number) => {
  for (let i = 0; i < 50; i++) {
    if (!(await processAlive(pid))) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
};

async function readPid(file: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (pid > 0) return pid;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no pid in ${file}`);
}

test('local: the cwd is the workspace; PATH and HOME come from the worker when the job sets none; a signal gives 128+N', async (t) => {
  const { executor, dir, job } = await setup(t);
  const run = await runToEnd(executor, job(['echo "$(pwd) home=${HOME:+set} path=${PATH:+set}"']));
  assert.deepEqual(
    run.lines.map((l) => l.line),
    [`${dir} home=set path=set`],
  );
  assert.equal((await runToEnd(executor, job(['kill -KILL $$']))).result.exitCode, 137);
  const big = await runToEnd(executor, job(['head -c 300000 /dev/zero | tr "\\0" a; echo']));
  assert.equal(big.lines.length, 1);
  assert.equal(big.lines[0]!.line.length, 300000);
});

test('local: cancel kills the whole process group, a background child too', async (t) => {
  const { executor, dir, job } = await setup(t, { graceMs: 2000 });
  const handle = await executor.spawn(job(['sleep 300 & echo $! > child.pid; echo started; wait']));
  t.after(() => executor.destroy(handle));
  const reading = (async () => {
    for await (const _ of executor.logs(handle));
  })();
  const childPid = await readPid(path.join(dir, 'child.pid'));
  await executor.cancel(handle);
  assert.equal((await executor.wait(handle)).exitCode, 143);
  await reading;
  assert.equal(await diesSoon(childPid), true, 'the background sleep died with the group');
});

test('local: a background job left behind dies when the stage ends', async (t) => {
  const { executor, dir, job } = await setup(t);
  const run = await runToEnd(executor, job(['sleep 300 >/dev/null 2>&1 & echo $! > bg.pid']));
  assert.equal(run.result.exitCode, 0);
  assert.equal(await diesSoon(await readPid(path.join(dir, 'bg.pid'))), true);
});

test('local: stopAll SIGKILLs a stage that ignores SIGTERM at once, and an attempt the run still starts', async (t) => {
  const { executor, dir, job } = await setup(t, { graceMs: 3000 });
  const stubborn = await executor.spawn(job(["trap '' TERM; echo $$ > stubborn.pid; echo ready; exec sleep 300"]));
  t.after(() => executor.destroy(stubborn));
  const pid = await readPid(path.join(dir, 'stubborn.pid'));
  void executor.cancel(stubborn); // would wait out the 3 s grace period
  await executor.stopAll('run-local');
  assert.equal((await executor.wait(stubborn)).exitCode, 137);
  assert.equal(await processAlive(pid), false);
  const late = await executor.spawn(job(['sleep 300'], { stageId: 'late' }));
  t.after(() => executor.destroy(late));
  assert.equal((await executor.wait(late)).exitCode, 137);
});

test('local: cache volumes are symlinked (writable) or copied (read-only) into the workspace and removed by destroy', async (t) => {
  const { executor, storage, dir, job } = await setup(t);
  await mkdir(storage.volumeDir('cache'), { recursive: true });
  await writeFile(path.join(storage.volumeDir('cache'), 'seed.txt'), 'seed\n');
  await mkdir(storage.volumeDir('ro'), { recursive: true });
  await writeFile(path.join(storage.volumeDir('ro'), 'config'), 'ro\n');
  const run = await runToEnd(
    executor,
    job(['cat .cache/dir/seed.txt; echo written > .cache/dir/new.txt; cat conf/config; echo changed > conf/config'], {
      mounts: [
        { volume: 'cache', path: '.cache/dir' },
        { volume: 'ro', path: 'conf', readOnly: true },
      ],
    }),
  );
  assert.equal(run.result.exitCode, 0, JSON.stringify(run.lines));
  assert.deepEqual(
    run.lines.map((l) => l.line),
    ['seed', 'ro'],
  );
  assert.equal(await readFile(path.join(storage.volumeDir('cache'), 'new.txt'), 'utf8'), 'written\n');
  assert.equal(await readFile(path.join(storage.volumeDir('ro'), 'config'), 'utf8'), 'ro\n');
  await assert.rejects(lstat(path.join(dir, '.cache/dir')), { code: 'ENOENT' });
  await assert.rejects(lstat(path.join(dir, 'conf')), { code: 'ENOENT' });

  // A real directory of the workspace is kept; the volume is skipped with a notice on stderr.
  await mkdir(path.join(dir, 'node_modules'));
  await writeFile(path.join(dir, 'node_modules', 'own.txt'), 'own\n');
  const kept = await runToEnd(executor, job(['cat node_modules/own.txt'], { mounts: [{ volume: 'cache', path: 'node_modules' }] }));
  assert.equal(kept.result.exitCode, 0);
  assert.deepEqual(
    kept.lines.filter((l) => l.stream === 'stdout').map((l) => l.line),
    ['own'],
  );
  assert.match(kept.lines.find((l) => l.stream === 'stderr')?.line ?? '', /node_modules already exists in the workspace/);
  assert.equal(await readFile(path.join(dir, 'node_modules', 'own.txt'), 'utf8'), 'own\n');

  await assert.rejects(
    executor.spawn(job(['true'], { mounts: [{ volume: 'cache', path: '/abs' }] })),
    (error: unknown) => error instanceof ExecutorError && error.code === 'spawn_failed' && /must be relative/.test(error.message),
  );
  await assert.rejects(executor.spawn(job(['true'], { mounts: [{ volume: 'cache', path: '../up' }] })), /outside the workspace/);
  await assert.rejects(executor.spawn(job(['true'], { mounts: [{ volume: '../../etc', path: 'x' }] })), /not inside the cache storage/);
});

test('local: a shell that cannot run is a spawn_failed ExecutorError', async (t) => {
  const { executor, job } = await setup(t, { shell: '/nonexistent/sh' });
  await assert.rejects(
    executor.spawn(job(['true'])),
    (error: unknown) => error instanceof ExecutorError && error.code === 'spawn_failed' && /nonexistent/.test(error.message),
  );
});
