/**
 * A run the worker lets go of (shutdown hand-back, lost lease) must keep running for the next worker,
 * untouched by this one. Detaching is done to the executors the run uses, through this wrapper.
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
} from '../../../lib/engine/executors/types';

/**
 * Wraps an executor for one run: after `detach()` nothing new starts, the orchestrator's log reads and
 * waits end at once, the run's workspace is left for the next worker, and — for executors whose work
 * survives the worker (docker) — cancel and destroy do nothing, so the next worker finds the containers.
 * Executors whose work cannot be recovered (local) have their running attempts cancelled.
 */
export class DetachableExecutor implements Executor {
  private detached = false;
  private release: () => void = () => {};
  private readonly released = new Promise<void>((resolve) => (this.release = resolve));
  private readonly live = new Map<string, ExecutorHandle>();
  /** Wakes the log readers waiting for their next line, so they end at once on detach. */
  private readonly logWakers = new Set<() => void>();

  private readonly keepOnDetach: boolean;

  constructor(private readonly inner: Executor) {
    this.keepOnDetach = inner.survivesWorker;
  }

  get name(): string {
    return this.inner.name;
  }

  get survivesWorker(): boolean {
    return this.inner.survivesWorker;
  }

  detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.release();
    for (const wake of this.logWakers) wake();
    if (!this.keepOnDetach) {
      for (const handle of this.live.values()) {
        this.inner
          .cancel(handle)
          .then(() => this.inner.destroy(handle))
          .catch(() => {});
      }
    }
  }

  setupRun(run: RunSetup): Promise<void> {
    return this.inner.setupRun(run);
  }

  /** After a detach the run belongs to the next worker, workspace included (its containers may use it). */
  async teardownRun(runId: string): Promise<void> {
    if (this.detached) return;
    await this.inner.teardownRun(runId);
  }

  async spawn(job: StageJob): Promise<ExecutorHandle> {
    if (this.detached) throw new ExecutorError('the worker stopped supervising this run', 'lost');
    const handle = await this.inner.spawn(job);
    this.live.set(handle.id, handle);
    if (this.detached && !this.keepOnDetach) await this.inner.cancel(handle).catch(() => {});
    return handle;
  }

  logs(handle: ExecutorHandle, options?: { skipLines?: number }): AsyncIterable<LogLine> {
    const inner = this.inner.logs(handle, options);
    const wakers = this.logWakers;
    const isDetached = () => this.detached;
    return {
      async *[Symbol.asyncIterator]() {
        const iterator = inner[Symbol.asyncIterator]();
        // One fresh promise per line, woken by detach(). (Racing every line against one long-pending
        // promise would leave a reaction on it per line: 1M lines kept ~350 MB alive.)
        let wake: (() => void) | null = null;
        const waker = () => wake?.();
        wakers.add(waker);
        try {
          while (!isDetached()) {
            const next = await new Promise<IteratorResult<LogLine> | 'detached'>((resolve, reject) => {
              wake = () => resolve('detached');
              iterator.next().then(resolve, reject);
            });
            wake = null;
            if (next === 'detached' || next.done) return;
            yield next.value;
          }
        } finally {
          wakers.delete(waker);
          void Promise.resolve(iterator.return?.()).catch(() => {});
        }
      },
    };
  }

  async wait(handle: ExecutorHandle): Promise<ExitResult> {
    const detachedExit: ExitResult = { exitCode: -1, oomKilled: false, error: 'the worker stopped supervising this stage' };
    if (this.detached) return detachedExit;
    return Promise.race([this.inner.wait(handle), this.released.then(() => detachedExit)]);
  }

  async cancel(handle: ExecutorHandle): Promise<void> {
    if (this.detached && this.keepOnDetach) return;
    await this.inner.cancel(handle);
  }

  async destroy(handle: ExecutorHandle): Promise<void> {
    if (this.detached && this.keepOnDetach) return;
    this.live.delete(handle.id);
    await this.inner.destroy(handle);
  }

  recover(attempt: AttemptRef): Promise<ExecutorHandle | null> {
    return this.inner.recover(attempt);
  }

  async stopAll(runId: string): Promise<void> {
    if (this.detached && this.keepOnDetach) return;
    await this.inner.stopAll(runId);
  }
}
