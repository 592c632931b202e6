/**
 * Stage locks (`lock "NAME"` in a stage): a stage starts only while it holds its lock, and at most one
 * stage holds a name at a time. The orchestrator asks a StageLocks for it after the stage got a slot;
 * the server's StageLocks (lib/runs/stage-locks.ts) spans every run of a tenant, `buildit run` uses
 * RunLocks below, which serializes the stages of the one run.
 */

/** The stage run holding a lock another stage waits for. */
export interface LockHolder {
  runId: string;
  /** The holder's planned stage id. */
  stage: string;
  /** The holder's run number, when the locks know it (the server). */
  runNumber?: number;
}

export interface HeldLock {
  release(): Promise<void>;
}

export interface LockRequest {
  stageId: string;
  lock: string;
}

export interface StageLocks {
  /**
   * Resolves once the stage holds the lock; waiters are served in the order they asked. `onWaiting`
   * is called when the stage has to wait, and again whenever the holder changes. Rejects when
   * `signal` aborts (the stage is then not started).
   */
  acquire(request: LockRequest, signal: AbortSignal, onWaiting: (holder: LockHolder | null) => Promise<void>): Promise<HeldLock>;
  /**
   * Crash recovery: a stage that was running with its lock when its worker stopped. Resolves with the
   * lock when the stage still holds it, or with why not (someone else took it after the lease expired).
   * Absent: resumed stages are trusted to hold their locks (one process, nothing to lose).
   */
  resume?(request: LockRequest): Promise<HeldLock | { lost: string }>;
}

/** Locks inside one run (`buildit run`): a FIFO queue per name. */
export class RunLocks implements StageLocks {
  private readonly queues = new Map<string, Array<{ stageId: string; grant: () => void }>>();
  private readonly holders = new Map<string, string>();

  constructor(private readonly runId: string) {}

  async acquire(request: LockRequest, signal: AbortSignal, onWaiting: (holder: LockHolder | null) => Promise<void>): Promise<HeldLock> {
    const { lock, stageId } = request;
    const holder = this.holders.get(lock);
    if (holder === undefined) return this.take(lock, stageId);
    await onWaiting({ runId: this.runId, stage: holder });
    const queue = this.queues.get(lock) ?? [];
    this.queues.set(lock, queue);
    return new Promise<HeldLock>((resolve, reject) => {
      const entry = {
        stageId,
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve(this.take(lock, stageId));
        },
      };
      const onAbort = (): void => {
        queue.splice(queue.indexOf(entry), 1);
        reject(new Error(`stopped while waiting for lock "${lock}"`));
      };
      queue.push(entry);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private take(lock: string, stageId: string): HeldLock {
    this.holders.set(lock, stageId);
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        this.holders.delete(lock);
        this.queues.get(lock)?.shift()?.grant();
      },
    };
  }
}
