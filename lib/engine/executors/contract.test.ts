/**
 * The executor contract (types.ts) as one table of cases that every executor passes, against real
 * engines: host processes for `local`, the Docker engine at DOCKER_HOST for `docker` (skipped without
 * one unless BUILDIT_REQUIRE_ENGINES=1). A new executor (kubernetes) joins by adding a row to EXECUTORS.
 * What only one executor does (mount strategies, images, services, OOM) is tested in its own file.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dockerOrSkip, TEST_IMAGE } from '../../../tests/support/engines';
import { HostStorage } from '../workspace/storage';
import { DockerExecutor, removeContainersByLabel } from './docker';
import { LocalExecutor } from './local';
import { ExecutorError, type Executor, type ExecutorHandle, type LogLine, type StageJob } from './types';
import { stageJob } from '../../../tests/support/stage-jobs';

interface World {
  executor: Executor;
  storage: HostStorage;
  runId: string;
  job(commands: string[], extra?: Partial<StageJob>): StageJob;
}

const EXECUTORS: Array<{ name: string; make(t: TestContext, storage: HostStorage): Promise<Executor | null> }> = [
  { name: 'local', make: async (_t, storage) => new LocalExecutor({ storage, graceMs: 2000 }) },
  {
    name: 'docker',
    make: async (t, storage) => {
      const docker = await dockerOrSkip(t);
      return docker ? new DockerExecutor({ storage, docker, stopGraceSeconds: 2 }) : null;
    },
  },
];

async function world(t: TestContext, make: (t: TestContext, storage: HostStorage) => Promise<Executor | null>): Promise<World | null> {
  const root = await mkdtemp(path.join(tmpdir(), 'buildit-contract-'));
  const storage = new HostStorage({ runsRoot: path.join(root, 'runs'), cacheRoot: path.join(root, 'caches') });
  const executor = await make(t, storage);
  const runId = `contract-${randomBytes(4).toString('hex')}`;
  t.after(async () => {
    if (executor) await executor.stopAll(runId);
    if (executor instanceof DockerExecutor) await removeContainersByLabel(executor.docker, { 'buildit.run': runId });
    await rm(root, { recursive: true, force: true });
  });
  if (!executor) return null;
  await executor.setupRun({ runId });
  const job = (commands: string[], extra: Partial<StageJob> = {}): StageJob => stageJob(runId, commands, { image: TEST_IMAGE, ...extra });
  return { executor, storage, runId, job };
}

async function readLogs(executor: Executor, handle: ExecutorHandle, skipLines?: number): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  for await (const line of executor.logs(handle, { skipLines })) lines.push(line);
  return lines;
}

async function runToEnd(executor: Executor, job: StageJob) {
  const handle = await executor.spawn(job);
  try {
    const lines = await readLogs(executor, handle);
    return { lines, result: await executor.wait(handle), handle };
  } finally {
    await executor.destroy(handle);
  }
}

const out = (lines: LogLine[]) => lines.filter((l) => l.stream === 'stdout').map((l) => l.line);
const err = (lines: LogLine[]) => lines.filter((l) => l.stream === 'stderr').map((l) => l.line);

/** Reads the first line of the attempt's log (the stage is then known to run). */
async function firstLine(executor: Executor, handle: ExecutorHandle): Promise<{ line: LogLine; rest: AsyncIterator<LogLine> }> {
  const iterator = executor.logs(handle)[Symbol.asyncIterator]();
  const next = await iterator.next();
  assert.ok(!next.done, 'the stage printed nothing');
  return { line: next.value, rest: iterator };
}

const CASES: Array<[string, (w: World) => Promise<void>]> = [
  [
    'exit codes, stdout and stderr apart, a line cut across writes, a last line without newline, env',
    async ({ executor, job }) => {
      const ok = await runToEnd(
        executor,
        job(['echo out1; echo err1 >&2; printf "a\\nb\\r\\npar"; sleep 0.05; printf "tial\\n"', 'echo "$GREETING"; printf no-newline'], {
          env: { GREETING: 'hello world' },
        }),
      );
      assert.deepEqual(ok.result, { exitCode: 0, oomKilled: false });
      assert.deepEqual(out(ok.lines), ['out1', 'a', 'b', 'partial', 'hello world', 'no-newline']);
      assert.deepEqual(err(ok.lines), ['err1']);
      assert.equal((await runToEnd(executor, job(['exit 7']))).result.exitCode, 7);
    },
  ],
  [
    'every command runs with `sh -e` in order; the first failure ends the stage',
    async ({ executor, job }) => {
      const failed = await runToEnd(executor, job(['echo first; false; echo not-reached', 'echo second-command']));
      assert.equal(failed.result.exitCode, 1);
      assert.deepEqual(out(failed.lines), ['first']);
      const multi = await runToEnd(executor, job(['A=1', 'echo "a=${A:-unset}"; exit 4', 'echo not-reached']));
      assert.deepEqual(out(multi.lines), ['a=unset']);
      assert.equal(multi.result.exitCode, 4);
      assert.equal((await runToEnd(executor, job([]))).result.exitCode, 0);
    },
  ],
  [
    'the stages of a run share its workspace, which the host storage sees; the worker env does not leak in',
    async ({ executor, storage, runId, job }) => {
      process.env.BUILDIT_CONTRACT_LEAK = 'leaked';
      try {
        await writeFile(path.join(storage.workspaceDir(runId), 'from-host.txt'), 'host\n');
        const run = await runToEnd(executor, job(['cat from-host.txt; echo made > made.txt; echo "leak=${BUILDIT_CONTRACT_LEAK:-none}"']));
        assert.deepEqual(out(run.lines), ['host', 'leak=none']);
        assert.equal(await readFile(path.join(storage.workspaceDir(runId), 'made.txt'), 'utf8'), 'made\n');
        const next = await runToEnd(executor, job(['cat made.txt'], { stageId: 'next' }));
        assert.deepEqual(out(next.lines), ['made']);
      } finally {
        delete process.env.BUILDIT_CONTRACT_LEAK;
      }
    },
  ],
  [
    'concurrent attempts keep their lines apart',
    async ({ executor, job }) => {
      const runs = await Promise.all(
        Array.from({ length: 4 }, (_, i) =>
          runToEnd(executor, job([`for n in 1 2 3; do echo s${i}-$n; echo e${i}-$n >&2; done; exit ${i}`], { stageId: `s${i}` })),
        ),
      );
      runs.forEach((run, i) => {
        assert.equal(run.result.exitCode, i);
        assert.deepEqual(out(run.lines), [`s${i}-1`, `s${i}-2`, `s${i}-3`]);
        assert.deepEqual(err(run.lines), [`e${i}-1`, `e${i}-2`, `e${i}-3`]);
      });
    },
  ],
  [
    'logs skip the lines a re-attaching reader already has',
    async ({ executor, job }) => {
      const handle = await executor.spawn(job(['for i in 1 2 3 4 5; do echo line$i; done']));
      try {
        assert.deepEqual(out(await readLogs(executor, handle, 3)), ['line4', 'line5']);
        assert.equal((await executor.wait(handle)).exitCode, 0);
      } finally {
        await executor.destroy(handle);
      }
    },
  ],
  [
    'cancel stops the stage with 143 and lets it clean up; cancel and destroy are idempotent',
    async ({ executor, job }) => {
      const handle = await executor.spawn(job(['trap "echo cleaning-up; exit 143" TERM; echo started; sleep 300 & wait', 'echo never']));
      const { line, rest } = await firstLine(executor, handle);
      assert.equal(line.line, 'started');
      await executor.cancel(handle);
      await executor.cancel(handle);
      const result = await executor.wait(handle);
      const after: string[] = [];
      for (let next = await rest.next(); !next.done; next = await rest.next()) after.push(next.value.line);
      assert.equal(result.exitCode, 143);
      assert.deepEqual(after, ['cleaning-up']);
      await executor.destroy(handle);
      await executor.destroy(handle);
      await executor.cancel(handle);
    },
  ],
  [
    'a command that ignores SIGTERM is killed after the grace period (137)',
    async ({ executor, job }) => {
      const handle = await executor.spawn(job(["trap '' TERM; echo ready; while :; do sleep 0.05; done"]));
      try {
        assert.equal((await firstLine(executor, handle)).line.line, 'ready');
        await executor.cancel(handle);
        assert.equal((await executor.wait(handle)).exitCode, 137);
      } finally {
        await executor.destroy(handle);
      }
    },
  ],
  [
    'stopAll ends every attempt of the run at once, without the grace period',
    async ({ executor, job }) => {
      const stubborn = [
        await executor.spawn(job(["trap '' TERM; echo ready; exec sleep 300"], { stageId: 'a' })),
        await executor.spawn(job(["trap '' TERM; echo ready; exec sleep 300"], { stageId: 'b' })),
      ];
      try {
        for (const handle of stubborn) await firstLine(executor, handle);
        await executor.stopAll(job([]).runId);
        for (const handle of stubborn) assert.notEqual((await executor.wait(handle)).exitCode, 0);
      } finally {
        for (const handle of stubborn) await executor.destroy(handle);
      }
    },
  ],
  [
    'a cache volume is writable at its path, and what the stage writes is in the volume',
    async ({ executor, storage, job }) => {
      const volume = 'scratch/contract/deps';
      const at = executor.name === 'local' ? '.deps' : '/deps';
      const run = await runToEnd(executor, job([`echo cached > ${at}/file`], { mounts: [{ volume, path: at }] }));
      assert.equal(run.result.exitCode, 0, JSON.stringify(run.lines));
      assert.equal(await readFile(path.join(storage.volumeDir(volume), 'file'), 'utf8'), 'cached\n');
    },
  ],
  [
    'recover finds a running attempt by its labels where the work outlives the worker, and nothing where it cannot',
    async ({ executor, runId, job }) => {
      const handle = await executor.spawn(job(['echo line1; sleep 1; echo line2'], { stageId: 'deploy', attempt: 2 }));
      try {
        const found = await executor.recover({ runId, stageId: 'deploy', attempt: 2 });
        if (!executor.survivesWorker) assert.equal(found, null);
        else {
          assert.equal(found?.id, handle.id);
          assert.equal(await executor.recover({ runId, stageId: 'deploy', attempt: 1 }), null);
        }
        await readLogs(executor, handle);
        assert.equal((await executor.wait(handle)).exitCode, 0);
      } finally {
        await executor.destroy(handle);
      }
    },
  ],
  [
    'teardownRun removes the workspace; an attempt of a run that is not set up fails with no_workspace',
    async ({ executor, storage, runId, job }) => {
      await executor.teardownRun(runId);
      await executor.teardownRun(runId);
      assert.equal(existsSync(storage.workspaceDir(runId)), false);
      await assert.rejects(executor.spawn(job(['true'])), (error: unknown) => error instanceof ExecutorError && error.code === 'no_workspace');
      await executor.setupRun({ runId });
      await executor.setupRun({ runId });
      assert.equal((await runToEnd(executor, job(['true']))).result.exitCode, 0);
    },
  ],
];

for (const { name, make } of EXECUTORS) {
  describe(`executor contract: ${name}`, () => {
    for (const [title, run] of CASES) {
      test(title, async (t) => {
        const w = await world(t, make);
        if (w) await run(w);
      });
    }
  });
}
