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
  assert.equal(await diesSoon(childPid), true, 'the background sleep died with the group');
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

// Both ways of starting a stage (the spawn helper, and Node's own spawn as the fallback) behave the same.
for (const spawnHelper of [true, false]) {
  const mode = spawnHelper ? 'spawn helper' : 'node spawn';

  test(`local (${mode}): exit codes, signals, lines of concurrent stages kept apart, env and cwd`, async (t) => {
    const dir = await workspace(t);
    const executor = new LocalExecutor({ spawnHelper });
    t.after(() => executor.close());
    const runs = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        runToEnd(executor, job(dir, [`for n in 1 2 3; do echo s${i}-$n; echo e${i}-$n >&2; done; test "$X" = x${i}; test "$(pwd)" = "${dir}"; exit ${i}`], { env: { X: `x${i}` } })),
      ),
    );
    runs.forEach((run, i) => {
      assert.equal(run.result.exitCode, i, JSON.stringify(run.lines));
      assert.deepEqual(run.lines.filter((l) => l.stream === 'stdout').map((l) => l.line), [`s${i}-1`, `s${i}-2`, `s${i}-3`]);
      assert.deepEqual(run.lines.filter((l) => l.stream === 'stderr').map((l) => l.line), [`e${i}-1`, `e${i}-2`, `e${i}-3`]);
    });
    const signalled = await runToEnd(executor, job(dir, ['kill -KILL $$']));
    assert.equal(signalled.result.exitCode, 137);
    // Several commands: each in its own `sh -e`, stopping at the first failure (the runner).
    const multi = await runToEnd(executor, job(dir, ['A=1; cd /', 'echo "a=${A:-unset} $(pwd)"; exit 4', 'echo not-reached']));
    assert.deepEqual(multi.lines.map((l) => l.line), [`a=unset ${dir}`]);
    assert.equal(multi.result.exitCode, 4);
    const none = await runToEnd(executor, job(dir, []));
    assert.equal(none.result.exitCode, 0);
    const big = await runToEnd(executor, job(dir, ['head -c 300000 /dev/zero | tr "\\0" a; echo']));
    assert.equal(big.lines.length, 1);
    assert.equal(big.lines[0]!.line.length, 300000);
  });

  test(`local (${mode}): a background job left behind dies when the stage ends`, async (t) => {
    const dir = await workspace(t);
    const executor = new LocalExecutor({ spawnHelper });
    t.after(() => executor.close());
    const run = await runToEnd(executor, job(dir, ['sleep 300 >/dev/null 2>&1 & echo $! > bg.pid']));
    assert.equal(run.result.exitCode, 0);
    const pid = Number((await readFile(path.join(dir, 'bg.pid'), 'utf8')).trim());
    assert.equal(await diesSoon(pid), true);
  });

  test(`local (${mode}): cancel of a multi-command stage stops it with 143; killAll kills at once`, async (t) => {
    const dir = await workspace(t);
    const executor = new LocalExecutor({ spawnHelper, graceMs: 3000 });
    t.after(() => executor.close());
    const handle = await executor.spawn(job(dir, ['true', 'echo started; sleep 300', 'echo not-reached']));
    t.after(() => executor.destroy(handle));
    const iterator = executor.logs(handle)[Symbol.asyncIterator]();
    assert.deepEqual((await iterator.next()).value, { stream: 'stdout', line: 'started' });
    const started = Date.now();
    await executor.cancel(handle);
    assert.equal((await executor.wait(handle)).exitCode, 143);
    assert.ok(Date.now() - started < 2000);
    const rest: string[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest.push(next.value.line);
    assert.ok(!rest.includes('not-reached'), rest.join('\n'));

    const stubborn = await executor.spawn(job(dir, ["trap '' TERM; echo $$ > stubborn.pid; echo ready; exec sleep 300"]));
    t.after(() => executor.destroy(stubborn));
    const lines = executor.logs(stubborn)[Symbol.asyncIterator]();
    assert.deepEqual((await lines.next()).value, { stream: 'stdout', line: 'ready' });
    const pid = Number((await readFile(path.join(dir, 'stubborn.pid'), 'utf8')).trim());
    void executor.cancel(stubborn); // would wait out the 3 s grace period
    const killedAt = Date.now();
    executor.killAll();
    assert.equal((await executor.wait(stubborn)).exitCode, 137);
    assert.ok(Date.now() - killedAt < 1000, `took ${Date.now() - killedAt} ms`);
    assert.equal(await processAlive(pid), false);
  });
}

test('local: the spawn helper reports a workspace that is a file, and a shell that cannot run, as spawn_failed', async (t) => {
  const dir = await workspace(t);
  await writeFile(path.join(dir, 'file'), '');
  const executor = new LocalExecutor();
  t.after(() => executor.close());
  await assert.rejects(executor.spawn(job(path.join(dir, 'file'), ['true'])), (error: unknown) => error instanceof ExecutorError && error.code === 'spawn_failed' && /not a directory/.test(error.message));
  const noShell = new LocalExecutor({ shell: '/nonexistent/sh' });
  t.after(() => noShell.close());
  await assert.rejects(noShell.spawn(job(dir, ['true'])), (error: unknown) => error instanceof ExecutorError && error.code === 'spawn_failed' && /nonexistent/.test(error.message));
  // And it still works afterwards.
  const ok = await runToEnd(executor, job(dir, ['echo fine']));
  assert.deepEqual(ok.lines.map((l) => l.line), ['fine']);
});

test('local: without perl on PATH, stages are started from Node', async (t) => {
  const dir = await workspace(t);
  const savedPath = process.env.PATH;
  process.env.PATH = path.join(dir, 'no-such-bin');
  t.after(() => {
    process.env.PATH = savedPath;
  });
  const executor = new LocalExecutor();
  const run = await runToEnd(executor, job(dir, ['echo "pid $$"; exit 3']));
  process.env.PATH = savedPath;
  assert.equal(run.result.exitCode, 3);
  assert.match(run.lines[0]?.line ?? '', /^pid \d+$/);
});
