/**
 * FakeExecutor: a TEST-ONLY executor for fast orchestrator unit tests, like Woodpecker's `dummy`
 * backend. It runs nothing; each attempt is driven by the job's env:
 *
 * - FAKE_SLEEP_MS     how long the "process" runs (default 0)
 * - FAKE_EXIT_CODE    exit code (default 0)
 * - FAKE_EXIT_CODES   per-attempt exit codes, comma separated (`1,1,0`); the last repeats
 * - FAKE_OUTPUT       stdout lines, separated by `\n`, printed at the start
 * - FAKE_STDERR       stderr lines, separated by `\n`
 * - FAKE_ECHO_ENV     comma separated env names whose values are printed (to test secret masking)
 * - FAKE_SPAWN_ERROR  spawn throws an ExecutorError with this message
 * - FAKE_IGNORE_CANCEL  `1`: cancel() does not stop it (to test the orchestrator's hard deadline)
 *
 * It records what happened (`jobs`, `cancelled`, `destroyed`, `setUp`, `tornDown`) so tests can assert on it.
 * Real executors are tested against real engines; this one never replaces them there.
 */
import {
  ExecutorError,
  type AttemptRef,
  type Executor,
  type ExecutorHandle,
  type ExitResult,
  type LogLine,
  type RunSetup,
  type StageJob,
} from '../../lib/engine/executors/types';

type FakeStatus = 'running' | 'exited' | 'gone';

interface FakeProcess {
  job: StageJob;
  lines: LogLine[];
  exitCode: number;
  status: FakeStatus;
  done: Promise<void>;
  finish: () => void;
  timer: NodeJS.Timeout | null;
  ignoreCancel: boolean;
}

export class FakeExecutor implements Executor {
  readonly name: string;
  readonly survivesWorker = false;
  readonly setUp: string[] = [];
  readonly tornDown: string[] = [];
  /** Every job spawned, in order. */
  readonly jobs: StageJob[] = [];
  readonly cancelled: string[] = [];
  readonly destroyed: string[] = [];
  private readonly processes = new Map<string, FakeProcess>();
  private nextId = 1;

  constructor(name = 'fake') {
    this.name = name;
  }

  async setupRun(run: RunSetup): Promise<void> {
    this.setUp.push(run.runId);
  }

  async teardownRun(runId: string): Promise<void> {
    this.tornDown.push(runId);
  }

  async spawn(job: StageJob): Promise<ExecutorHandle> {
    this.jobs.push(job);
    const env = job.env;
    if (env.FAKE_SPAWN_ERROR) throw new ExecutorError(env.FAKE_SPAWN_ERROR, 'spawn_failed');
    const id = `fake-${this.nextId++}`;
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const proc: FakeProcess = {
      job,
      lines: [...fakeLines(env.FAKE_OUTPUT, 'stdout'), ...fakeEcho(env), ...fakeLines(env.FAKE_STDERR, 'stderr')],
      exitCode: exitCodeFor(env, job.attempt),
      status: 'running',
      done,
      finish: () => {
        if (proc.status === 'running') proc.status = 'exited';
        finish();
      },
      timer: null,
      ignoreCancel: env.FAKE_IGNORE_CANCEL === '1',
    };
    const sleepMs = Number(env.FAKE_SLEEP_MS ?? 0);
    // setTimeout(0) would wait at least 1 ms: an instant stage exits on the next turn of the loop.
    if (sleepMs > 0) proc.timer = setTimeout(() => proc.finish(), sleepMs);
    else setImmediate(() => proc.finish());
    this.processes.set(id, proc);
    return { executor: this.name, id, related: [] };
  }

  async *logs(handle: ExecutorHandle): AsyncIterable<LogLine> {
    const proc = this.get(handle);
    for (const line of proc.lines) yield line;
    await proc.done;
  }

  async wait(handle: ExecutorHandle): Promise<ExitResult> {
    const proc = this.get(handle);
    await proc.done;
    return { exitCode: proc.exitCode, oomKilled: false };
  }

  async cancel(handle: ExecutorHandle): Promise<void> {
    this.cancelled.push(handle.id);
    const proc = this.processes.get(handle.id);
    if (!proc || proc.status !== 'running' || proc.ignoreCancel) return;
    if (proc.timer) clearTimeout(proc.timer);
    proc.exitCode = 143; // as if SIGTERM ended it
    proc.finish();
  }

  async destroy(handle: ExecutorHandle): Promise<void> {
    this.destroyed.push(handle.id);
    const proc = this.processes.get(handle.id);
    if (!proc) return;
    if (proc.timer) clearTimeout(proc.timer);
    proc.status = 'gone';
    proc.finish();
    this.processes.delete(handle.id);
  }

  async recover(_attempt: AttemptRef): Promise<ExecutorHandle | null> {
    return null;
  }

  async stopAll(runId: string): Promise<void> {
    for (const [id, proc] of this.processes) if (proc.job.runId === runId) await this.cancel({ executor: this.name, id, related: [] });
  }

  private get(handle: ExecutorHandle): FakeProcess {
    const proc = this.processes.get(handle.id);
    if (!proc) throw new ExecutorError(`fake process ${handle.id} is gone`, 'lost');
    return proc;
  }
}

function fakeLines(text: string | undefined, stream: LogLine['stream']): LogLine[] {
  if (!text) return [];
  return text.split('\n').map((line) => ({ stream, line }));
}

function fakeEcho(env: Record<string, string>): LogLine[] {
  const names = (env.FAKE_ECHO_ENV ?? '').split(',').filter(Boolean);
  return names.flatMap((name) => fakeLines(`${name}=${env[name] ?? ''}`, 'stdout'));
}

function exitCodeFor(env: Record<string, string>, attempt: number): number {
  if (env.FAKE_EXIT_CODES) {
    const codes = env.FAKE_EXIT_CODES.split(',').map(Number);
    return codes[Math.min(attempt, codes.length) - 1] ?? 0;
  }
  return Number(env.FAKE_EXIT_CODE ?? 0);
}
