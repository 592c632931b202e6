import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LineSplitter, LocalExecutor } from './local';
import { ExecutorError, type Executor, type ExecutorHandle, type LogLine, type StageJob } from './types';

async function workspace(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'buildit-local-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function job(dir: string, commands: string[], extra: Partial<StageJob> = {}): StageJob {
  return {
    runId: 'run-local',
    stageId: 'build',
    attempt: 1,
    image: null,
    commands,
    env: {},
    workspace: dir,
    services: [],
    mounts: [],
    labels: {},
    ...extra,
  };
}

async function collect(executor: Executor, handle: ExecutorHandle, skipLines?: number): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  for await (const line of executor.logs(handle, { skipLines })) lines.push(line);
  return lines;
}

async function runToEnd(executor: Executor, stage: StageJob) {
  const handle = await executor.spawn(stage);
  try {
    const lines = await collect(executor, handle);
    const result = await executor.wait(handle);
    return { lines, result, handle };
  } finally {
    await executor.destroy(handle);
  }
}

/** Alive and not a zombie (PID 1 here does not always reap orphans at once). */
const processAlive = async (pid: number) => {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
};

test('LineSplitter: chunks cut mid-line and mid-UTF-8, CRLF, and a last line without newline', () => {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line));
  const euro = Buffer.from('€');
  splitter.write(Buffer.from('one\r\ntw'));
  splitter.write(Buffer.concat([Buffer.from('o '), euro.subarray(0, 1)]));
  splitter.write(Buffer.concat([euro.subarray(1), Buffer.from('\n\nlast')]));
  splitter.end();
  assert.deepEqual(lines, ['one', 'two €', '', 'last']);
});

test('local: exit codes, stdout/stderr separation, partial last line, cwd and env', async (t) => {
  const dir = await workspace(t);
  const executor = new LocalExecutor();
  const ok = await runToEnd(
    executor,
    job(dir, ['echo out1; echo err1 >&2; printf "a\\nb\\r\\npar"; sleep 0.05; printf "tial\\n"', 'echo "$GREETING from $(pwd)"; test -n "$PATH"; printf no-newline'], {
      env: { GREETING: 'hello world' },
    }),
  );
  assert.deepEqual(ok.result, { exitCode: 0, oomKilled: false });
  assert.deepEqual(
    ok.lines.filter((l) => l.stream === 'stdout').map((l) => l.line),
    ['out1', 'a', 'b', 'partial', `hello world from ${dir}`, 'no-newline'],
  );
  assert.deepEqual(ok.lines.filter((l) => l.stream === 'stderr').map((l) => l.line), ['err1']);

  // `sh -e`: the first failing line ends the command; later commands do not run.
  const failed = await runToEnd(executor, job(dir, ['echo first; false; echo not-reached', 'echo second-command']));
  assert.equal(failed.result.exitCode, 1);
  assert.deepEqual(failed.lines.map((l) => l.line), ['first']);

  const code = await runToEnd(executor, job(dir, ['exit 7']));
  assert.equal(code.result.exitCode, 7);
  assert.equal(await executor.status(code.handle), 'gone'); // destroyed
});

test('local: the job env does not leak the worker env (except PATH and HOME)', async (t) => {
  const dir = await workspace(t);
  process.env.BUILDIT_LOCAL_TEST_LEAK = 'leaked';
  t.after(() => delete process.env.BUILDIT_LOCAL_TEST_LEAK);
  const run = await runToEnd(new LocalExecutor(), job(dir, ['echo "leak=${BUILDIT_LOCAL_TEST_LEAK:-none} home=${HOME:+set}"']));
  assert.deepEqual(run.lines.map((l) => l.line), ['leak=none home=set']);
});

test('local: status, and cancel kills the whole process group (a child sleep too) within the grace period', async (t) => {
  const dir = await workspace(t);
  const executor = new LocalExecutor({ graceMs: 2000 });
  // The stage ignores nothing; the background `sleep` writes its pid so we can check it dies.
  const handle = await executor.spawn(job(dir, ['sleep 300 & echo $! > child.pid; echo started; wait']));
  t.after(() => executor.destroy(handle));
  const lines: LogLine[] = [];
  const reading = (async () => {
    for await (const line of executor.logs(handle)) lines.push(line);
  })();
  let childPid = 0;
  for (let i = 0; i < 100 && !childPid; i++) {
    childPid = Number((await readFile(path.join(dir, 'child.pid'), 'utf8').catch(() => '')).trim()) || 0;
    if (!childPid) await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(childPid > 0, 'child pid written');
  assert.equal(await executor.status(handle), 'running');
  const started = Date.now();
  await executor.cancel(handle);
  await executor.cancel(handle); // idempotent
  const result = await executor.wait(handle);
  await reading;
  assert.ok(Date.now() - started < 2500, `cancel took ${Date.now() - started} ms`);
  assert.equal(result.exitCode, 143);
  assert.equal(await processAlive(childPid), false, 'the background sleep died with the group');
  assert.equal(await executor.status(handle), 'exited');
  await executor.destroy(handle);
  await executor.destroy(handle); // idempotent
  assert.equal(await executor.status(handle), 'gone');
});

test('local: a command that ignores SIGTERM is SIGKILLed after the grace period', async (t) => {
  const dir = await workspace(t);
  const executor = new LocalExecutor({ graceMs: 300 });
  const handle = await executor.spawn(job(dir, ["trap '' TERM; echo ready; while :; do sleep 0.05; done"]));
  t.after(() => executor.destroy(handle));
  const iterator = executor.logs(handle)[Symbol.asyncIterator]();
  assert.deepEqual((await iterator.next()).value, { stream: 'stdout', line: 'ready' });
  const started = Date.now();
  await executor.cancel(handle);
  const result = await executor.wait(handle);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 250 && elapsed < 2000, `took ${elapsed} ms`);
  assert.equal(result.exitCode, 137);
});

test('local: logs with skipLines, and a handle from another worker is found by pgid', async (t) => {
  const dir = await workspace(t);
  const executor = new LocalExecutor();
  const run = await executor.spawn(job(dir, ['for i in 1 2 3 4 5; do echo line$i; done']));
  const lines = await collect(executor, run, 3);
  assert.deepEqual(lines.map((l) => l.line), ['line4', 'line5']);
  await executor.wait(run);
  await executor.destroy(run);

  // A fresh executor (a restarted worker) knows the pgid only.
  const first = new LocalExecutor({ graceMs: 500 });
  const handle = await first.spawn(job(dir, ['sleep 300']));
  t.after(() => first.destroy(handle));
  const second = new LocalExecutor({ graceMs: 500 });
  assert.equal(await second.status(handle), 'running');
  await second.cancel(handle);
  assert.equal(await second.status(handle), 'gone');
  const lost = await second.wait(handle);
  assert.equal(lost.exitCode, -1);
  assert.match(lost.error ?? '', /not started by this worker/);
});

test('local: mounts are symlinked (writable) or copied (read-only) into the workspace and removed by destroy', async (t) => {
  const dir = await workspace(t);
  const outside = await workspace(t);
  await mkdir(path.join(outside, 'cache'));
  await writeFile(path.join(outside, 'cache', 'seed.txt'), 'seed\n');
  await mkdir(path.join(outside, 'ro'));
  await writeFile(path.join(outside, 'ro', 'config'), 'ro\n');
  const executor = new LocalExecutor();
  const run = await runToEnd(
    executor,
    job(dir, ['cat .cache/dir/seed.txt; echo written > .cache/dir/new.txt; cat conf/config; echo changed > conf/config'], {
      mounts: [
        { hostPath: path.join(outside, 'cache'), containerPath: '.cache/dir' },
        { hostPath: path.join(outside, 'ro'), containerPath: 'conf', readOnly: true },
      ],
    }),
  );
  assert.equal(run.result.exitCode, 0, JSON.stringify(run.lines));
  assert.deepEqual(run.lines.map((l) => l.line), ['seed', 'ro']);
  assert.equal(await readFile(path.join(outside, 'cache', 'new.txt'), 'utf8'), 'written\n');
  assert.equal(await readFile(path.join(outside, 'ro', 'config'), 'utf8'), 'ro\n');
  await assert.rejects(lstat(path.join(dir, '.cache/dir')), { code: 'ENOENT' });
  await assert.rejects(lstat(path.join(dir, 'conf')), { code: 'ENOENT' });

  // A real directory of the workspace is kept; the mount is skipped with a notice on stderr.
  await mkdir(path.join(dir, 'node_modules'));
  await writeFile(path.join(dir, 'node_modules', 'own.txt'), 'own\n');
  const kept = await runToEnd(executor, job(dir, ['cat node_modules/own.txt'], { mounts: [{ hostPath: path.join(outside, 'cache'), containerPath: 'node_modules' }] }));
  assert.equal(kept.result.exitCode, 0);
  assert.deepEqual(kept.lines.filter((l) => l.stream === 'stdout').map((l) => l.line), ['own']);
  assert.match(kept.lines.find((l) => l.stream === 'stderr')?.line ?? '', /node_modules already exists in the workspace/);
  assert.equal(await readFile(path.join(dir, 'node_modules', 'own.txt'), 'utf8'), 'own\n');

  await assert.rejects(
    executor.spawn(job(dir, ['true'], { mounts: [{ hostPath: outside, containerPath: '/abs' }] })),
    (error: unknown) => error instanceof ExecutorError && error.code === 'spawn_failed' && /must be relative/.test(error.message),
  );
  await assert.rejects(executor.spawn(job(dir, ['true'], { mounts: [{ hostPath: outside, containerPath: '../up' }] })), /outside the workspace/);
});

test('local: a missing workspace is a spawn_failed ExecutorError', async () => {
  await assert.rejects(
    new LocalExecutor().spawn(job('/nonexistent/buildit-ws', ['true'])),
    (error: unknown) => error instanceof ExecutorError && error.code === 'spawn_failed',
  );
});
