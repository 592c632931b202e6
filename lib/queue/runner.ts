// JobRunner: the worker loop. Claims jobs (claim.ts), runs them through a handler per kind, keeps their
// lease alive (lease.ts), records the outcome (complete.ts / fail.ts), and hands unfinished jobs back on
// shutdown (release.ts).
// It stays one file because it is one state machine: the claim loop, each job's lifecycle and stop() all
// read and change the same slots, job states and grace deadline, while the parts that stand alone (each SQL
// statement, the LISTEN connection) already have modules of their own.
//
// When it claims:
// - at start, then whenever a slot frees up, until every slot is busy or nothing is runnable;
// - on a NOTIFY buildit_jobs (listen.ts), so an idle runner starts a new job within milliseconds;
// - after the listener reconnects (notifications sent meanwhile are lost);
// - every pollMs (default 2 s, jittered ±20% so runners started together do not poll in lockstep):
//   the fallback for lost notifications, delayed run_at (retries with backoff) and expired leases.
//
// Failure model:
// - A handler that throws JobDeferred (defer.ts) → the job goes back to the queue, uncounted, due after
//   the error's delay (release.ts): it frees its slot while it waits for something else.
// - A handler that throws → failJob (retry with backoff in SQL, then `failed`). A kind without a handler
//   → the same, with a message saying which kinds this worker handles (a worker of another version may
//   know it on a retry; a typo ends as `failed` after max_attempts with that message).
// - Heartbeat every heartbeatMs renews the lease; when renewLease says the job is no longer ours (our lease
//   expired and another worker took it over), ctx.signal is aborted and the handler's outcome is dropped.
// - Database errors (PostgreSQL restarting, connection refused) never crash the runner: claims retry with
//   exponential backoff (100 ms → 5 s), heartbeats are retried at the next beat, and recording an outcome
//   is retried with backoff while the heartbeat keeps the lease (if the lease is lost meanwhile, the other
//   worker's attempt wins and ours is dropped: at-least-once execution, exactly-once recording).
//
// Graceful stop (stop({ graceMs })): stop claiming; let running jobs finish for up to graceMs; at the
// deadline abort ctx.signal and hand every unfinished job back (status queued, run_at now, attempt not
// counted, see release.ts) so another worker starts it at once; then wait briefly (abortWaitMs) for the
// aborted handlers to return so their cleanup runs before the process exits.
import { EventEmitter } from 'node:events';
import type pg from 'pg';
import { sleep } from '../async';
import { messageOf } from '../errors';
import type { Logger } from '../log';
import { claimNextJob, type ClaimedJob } from './claim';
import { completeJob } from './complete';
import { failJob } from './fail';
import { renewLease } from './lease';
import { JobListener } from './listen';
import { releaseJob } from './release';
import { JobDeferred } from './defer';

export interface JobContext {
  /**
   * Aborted when the job must stop: the worker's grace period ran out (the job is handed back), or the
   * lease was lost (another worker owns the job now). Pass it to child processes, fetches, executors.
   */
  signal: AbortSignal;
  workerId: string;
  /** 1 for the first attempt. */
  attempt: number;
  log: Logger;
}

export type JobHandler = (job: ClaimedJob, ctx: JobContext) => Promise<void>;
/** Handlers by job kind (see worker/jobs/index.ts). */
export type JobHandlers = Readonly<Record<string, JobHandler>>;

export interface JobRunnerOptions {
  /** Claims, heartbeats and outcomes go through this pool (not closed by the runner). */
  pool: pg.Pool;
  /** Unique per runner (stored in jobs.locked_by). */
  workerId: string;
  handlers: JobHandlers;
  /** Jobs run at the same time (default 1). */
  concurrency?: number;
  /** Lease length (default 15 s): a crashed worker's job is taken over this long after its last heartbeat. */
  leaseMs?: number;
  /** Lease renewal interval (default 5 s); must be well below leaseMs. */
  heartbeatMs?: number;
  /** Fallback poll interval (default 2 s, jittered ±20%). */
  pollMs?: number;
  /** Claim only these kinds (default: every kind; a kind without a handler fails with a clear message). */
  kinds?: readonly string[];
  /** LISTEN for new jobs (default true, on a dedicated client made from pool.options). */
  listen?: boolean | pg.ClientConfig;
  /** After the grace period's abort, how long stop() waits for handlers to return (default 2 s). */
  abortWaitMs?: number;
  log?: Logger;
}

export type WakeReason = 'start' | 'notify' | 'reconnect' | 'poll' | 'slot' | 'retry' | 'stop';

export type JobOutcome =
  | { outcome: 'succeeded' }
  | { outcome: 'retry'; error: string; runAt: Date }
  | { outcome: 'failed'; error: string }
  /** The lease was lost (taken over, or changed behind our back): the handler's result was dropped. */
  | { outcome: 'lost' }
  /** Handed back on stop (queued again, attempt not counted). */
  | { outcome: 'handed-back' }
  /** The handler deferred it (JobDeferred): queued again, attempt not counted, due at `runAt`. */
  | { outcome: 'deferred'; reason: string; runAt: Date }
  /** The outcome could not be written (database unreachable until stop): the lease will expire. */
  | { outcome: 'unrecorded'; error?: string };

export interface JobRunnerEvents {
  /** A claim round started for this reason. */
  wake: [reason: WakeReason];
  /** A job was claimed; `reason` is what woke the runner for the claim round that got it. */
  claimed: [job: ClaimedJob, reason: WakeReason];
  /** A job left this runner. */
  settled: [job: ClaimedJob, result: JobOutcome];
  /** A claim round found nothing runnable: the runner waits for a notification, a free slot or the poll. */
  idle: [];
}

export interface JobRunnerStats {
  claimed: number;
  succeeded: number;
  retried: number;
  failed: number;
  lost: number;
  handedBack: number;
  deferred: number;
  unrecorded: number;
  /** Lease-exhausted jobs this runner's claims marked failed. */
  exhausted: number;
  claimErrors: number;
  heartbeatErrors: number;
  recordErrors: number;
  wakeups: Record<WakeReason, number>;
}

type JobState = 'running' | 'settling' | 'lost' | 'handing-back' | 'done';

interface ActiveJob {
  job: ClaimedJob;
  controller: AbortController;
  state: JobState;
  heartbeat: NodeJS.Timeout;
  heartbeatInFlight: boolean;
  done: Promise<void>;
  log: Logger;
}

const noopLogger = {
  child: () => noopLogger,
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  fatal() {},
} as unknown as Logger;

const jitter = (ms: number, spread = 0.2) => ms * (1 - spread + Math.random() * 2 * spread);
const backoffMs = (failures: number) => jitter(Math.min(5_000, 100 * 2 ** Math.max(0, failures - 1)));

export class JobRunner extends EventEmitter<JobRunnerEvents> {
  readonly workerId: string;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  readonly pollMs: number;
  readonly stats: JobRunnerStats = {
    claimed: 0,
    succeeded: 0,
    retried: 0,
    failed: 0,
    lost: 0,
    handedBack: 0,
    deferred: 0,
    unrecorded: 0,
    exhausted: 0,
    claimErrors: 0,
    heartbeatErrors: 0,
    recordErrors: 0,
    wakeups: { start: 0, notify: 0, reconnect: 0, poll: 0, slot: 0, retry: 0, stop: 0 },
  };

  private readonly pool: pg.Pool;
  private readonly handlers: JobHandlers;
  private readonly kinds: readonly string[] | undefined;
  private readonly log: Logger;
  private readonly abortWaitMs: number;
  private readonly listener: JobListener | null;
  private readonly active = new Map<string, ActiveJob>();
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  /** Set at the grace deadline: outcome writes stop retrying. */
  private givingUp = false;
  private loopDone: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | null = null;
  private pendingWake: WakeReason | null = null;
  private wakeWaiter: ((reason: WakeReason) => void) | null = null;
  private claimFailures = 0;

  constructor(options: JobRunnerOptions) {
    super();
    if (!options.workerId) throw new Error('JobRunner: workerId is required');
    this.pool = options.pool;
    this.workerId = options.workerId;
    this.handlers = options.handlers;
    this.concurrency = options.concurrency ?? 1;
    this.leaseMs = options.leaseMs ?? 15_000;
    this.heartbeatMs = options.heartbeatMs ?? 5_000;
    this.pollMs = options.pollMs ?? 2_000;
    this.abortWaitMs = options.abortWaitMs ?? 2_000;
    this.kinds = options.kinds && options.kinds.length > 0 ? options.kinds : undefined;
    this.log = options.log ?? noopLogger;
    if (!(Number.isInteger(this.concurrency) && this.concurrency >= 1)) {
      throw new Error(`JobRunner: concurrency must be a positive integer, got ${options.concurrency}`);
    }
    if (!(this.leaseMs > 0 && this.heartbeatMs > 0 && this.heartbeatMs < this.leaseMs)) {
      throw new Error(`JobRunner: need 0 < heartbeatMs (${this.heartbeatMs}) < leaseMs (${this.leaseMs})`);
    }
    if (!(this.pollMs > 0)) throw new Error(`JobRunner: pollMs must be > 0, got ${options.pollMs}`);
    const listen = options.listen ?? true;
    this.listener = listen
      ? new JobListener({
          connection: listen === true ? this.pool.options : listen,
          log: this.log,
          onNotify: (kind) => {
            if (!this.kinds || this.kinds.includes(kind)) this.wake('notify');
          },
          onReconnect: () => this.wake('reconnect'),
        })
      : null;
  }

  /**
   * Events are for observers (logs, metrics, tests): a listener that throws is logged, and never disturbs
   * the job's bookkeeping (a throw from inside record() would otherwise look like a database error).
   */
  override emit<K extends keyof JobRunnerEvents>(event: K, ...args: JobRunnerEvents[K]): boolean {
    try {
      return (super.emit as (event: K, ...args: JobRunnerEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.log.error({ err: messageOf(err), event }, 'a JobRunner event listener threw');
      return true;
    }
  }

  /** Jobs currently held (running, or being recorded / handed back). */
  get activeJobs(): number {
    return this.active.size;
  }

  /** True while the LISTEN connection is up. */
  get listening(): boolean {
    return this.listener?.listening ?? false;
  }

  /** Starts listening and claiming; resolves once the listener's first connection attempt is done. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`JobRunner: start() called twice (state ${this.state})`);
    this.state = 'running';
    // A pool without an error listener crashes the process when an idle client's connection drops
    // (e.g. PostgreSQL restarts); createPool() adds one, a pool made elsewhere may not have it.
    if (this.pool.listenerCount('error') === 0) {
      this.pool.on('error', (err) => this.log.warn({ err: err.message }, 'idle database connection lost'));
    }
    await this.listener?.start();
    this.loopDone = this.loop().catch((err: unknown) => {
      // Not expected (every database call in the loop is guarded); logged rather than crashing the process.
      this.log.error({ err: messageOf(err) }, 'job runner loop ended unexpectedly');
    });
    this.log.info({ concurrency: this.concurrency, leaseMs: this.leaseMs, pollMs: this.pollMs }, 'job runner started');
  }

  /**
   * Graceful stop: no new claims; running jobs get graceMs to finish, then their signal is aborted and they
   * are handed back. Safe to call more than once (later calls wait for the first).
   */
  stop(options: { graceMs?: number } = {}): Promise<void> {
    this.stopping ??= this.doStop(options.graceMs ?? 30_000);
    return this.stopping;
  }

  private async doStop(graceMs: number): Promise<void> {
    if (this.state === 'new') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    this.wake('stop');
    await this.loopDone;
    await this.listener?.stop();
    const finished = Promise.all([...this.active.values()].map((a) => a.done));
    let timer: NodeJS.Timeout | undefined;
    const graceOver = await Promise.race([
      finished.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (graceOver && this.active.size > 0) {
      this.log.warn({ jobs: this.active.size, graceMs }, 'grace period over: handing unfinished jobs back');
      this.givingUp = true;
      await Promise.all([...this.active.values()].map((a) => this.handBack(a)));
      // Aborted handlers get a moment to clean up (kill child processes...) before the process exits.
      const stillRunning = Promise.all([...this.active.values()].map((a) => a.done));
      await Promise.race([stillRunning, sleep(this.abortWaitMs)]);
    }
    for (const a of this.active.values()) clearInterval(a.heartbeat);
    this.state = 'stopped';
    this.log.info({ stats: this.stats }, 'job runner stopped');
  }

  // ---- the claim loop ----

  private wake(reason: WakeReason): void {
    if (this.wakeWaiter) {
      const waiter = this.wakeWaiter;
      this.wakeWaiter = null;
      waiter(reason);
    } else {
      // Claiming right now: remember it, so a notification during a claim round is not lost.
      this.pendingWake ??= reason;
    }
  }

  private waitForWake(): Promise<WakeReason> {
    if (this.pendingWake) {
      const reason = this.pendingWake;
      this.pendingWake = null;
      return Promise.resolve(reason);
    }
    return new Promise((resolve) => {
      const retrying = this.claimFailures > 0;
      const timer = setTimeout(() => this.wake(retrying ? 'retry' : 'poll'), retrying ? backoffMs(this.claimFailures) : jitter(this.pollMs));
      this.wakeWaiter = (reason) => {
        clearTimeout(timer);
        resolve(reason);
      };
    });
  }

  private async loop(): Promise<void> {
    let reason: WakeReason = 'start';
    while (this.state === 'running') {
      this.stats.wakeups[reason]++;
      this.emit('wake', reason);
      await this.claimRound(reason);
      reason = await this.waitForWake();
    }
  }

  /** Claims until every slot is busy or nothing is runnable. */
  private async claimRound(reason: WakeReason): Promise<void> {
    while (this.state === 'running' && this.active.size < this.concurrency) {
      let job: ClaimedJob | null;
      try {
        job = await claimNextJob(this.pool, {
          workerId: this.workerId,
          leaseMs: this.leaseMs,
          kinds: this.kinds,
          excludeIds: [...this.active.keys()],
          onExhausted: (j) => {
            this.stats.exhausted++;
            this.log.warn(
              { jobId: j.id, kind: j.kind, attempts: j.attempts, leaseExpiries: j.leaseExpiries, error: j.lastError },
              'job failed: lease expired on its last attempt',
            );
          },
        });
      } catch (err) {
        this.claimFailures++;
        this.stats.claimErrors++;
        // Every failure while the database is down would flood the log: first one, then every 10th.
        if (this.claimFailures === 1 || this.claimFailures % 10 === 0) {
          this.log.warn({ err: messageOf(err), failures: this.claimFailures }, 'claiming a job failed; retrying with backoff');
        }
        return;
      }
      if (this.claimFailures > 0) {
        this.log.info({ failures: this.claimFailures }, 'claiming works again');
        this.claimFailures = 0;
      }
      if (!job) {
        this.emit('idle');
        return;
      }
      this.stats.claimed++;
      this.startJob(job, reason);
      if (this.state !== 'running') return;
    }
  }

  // ---- one job ----

  private startJob(job: ClaimedJob, reason: WakeReason): void {
    const log = this.log.child({ jobId: job.id, kind: job.kind, attempt: job.attempts });
    const entry: ActiveJob = {
      job,
      controller: new AbortController(),
      state: 'running',
      heartbeat: setInterval(() => void this.beat(entry), this.heartbeatMs),
      heartbeatInFlight: false,
      done: Promise.resolve(),
      log,
    };
    this.active.set(job.id, entry);
    // waitedMs: from when the job was due to its claim (queue latency; clocks of the database and the worker).
    log.info({ takenOver: job.takenOver, reason, waitedMs: Date.now() - job.runAt.getTime() }, 'job claimed');
    this.emit('claimed', job, reason);
    entry.done = this.runJob(entry)
      .catch((err: unknown) => log.error({ err: messageOf(err) }, 'job bookkeeping failed'))
      .finally(() => {
        clearInterval(entry.heartbeat);
        entry.state = 'done';
        this.active.delete(job.id);
        if (this.state === 'running') this.wake('slot');
      });
  }

  private async runJob(entry: ActiveJob): Promise<void> {
    const { job, log } = entry;
    const handler = Object.hasOwn(this.handlers, job.kind) ? this.handlers[job.kind] : undefined;
    let error: string | null = null;
    let deferred: JobDeferred | null = null;
    try {
      if (!handler) {
        const known = Object.keys(this.handlers).sort();
        throw new Error(
          `no handler for job kind "${job.kind}" in worker ${this.workerId} (it handles: ${known.length ? known.join(', ') : 'no kinds'}); ` +
            'register one in worker/jobs/index.ts',
        );
      }
      await handler(job, { signal: entry.controller.signal, workerId: this.workerId, attempt: job.attempts, log });
    } catch (err) {
      if (err instanceof JobDeferred) deferred = err;
      else error = messageOf(err);
    }
    if (entry.state !== 'running') {
      // Lost or handed back while the handler ran: its result belongs to nobody.
      log.info({ state: entry.state, error }, 'handler returned after the job left this worker; result dropped');
      return;
    }
    entry.state = 'settling';
    await this.record(entry, error, deferred);
  }

  /** Writes the outcome, retrying through database errors while the heartbeat keeps the lease. */
  private async record(entry: ActiveJob, error: string | null, deferred: JobDeferred | null): Promise<void> {
    const { job, log } = entry;
    for (let failures = 0; ;) {
      try {
        if (deferred) {
          if (await releaseJob(this.pool, job.id, this.workerId, deferred.delayMs)) {
            this.stats.deferred++;
            const runAt = new Date(Date.now() + deferred.delayMs);
            log.info({ reason: deferred.message, runAt }, 'job deferred');
            this.emit('settled', job, { outcome: 'deferred', reason: deferred.message, runAt });
          } else {
            this.markLost(entry, 'job to defer is no longer ours');
          }
          return;
        }
        if (error === null) {
          if (await completeJob(this.pool, job.id, this.workerId)) {
            this.stats.succeeded++;
            log.info('job succeeded');
            this.emit('settled', job, { outcome: 'succeeded' });
          } else {
            this.markLost(entry, 'job succeeded but is no longer ours; result dropped');
          }
          return;
        }
        const result = await failJob(this.pool, job.id, this.workerId, error);
        if (result.outcome === 'retry') {
          this.stats.retried++;
          log.warn({ error, runAt: result.runAt }, 'job failed; retry scheduled');
          this.emit('settled', job, { outcome: 'retry', error, runAt: result.runAt });
        } else if (result.outcome === 'failed') {
          this.stats.failed++;
          log.error({ error, attempts: result.attempts }, 'job failed for good');
          this.emit('settled', job, { outcome: 'failed', error });
        } else {
          this.markLost(entry, 'job failed but is no longer ours; result dropped');
        }
        return;
      } catch (err) {
        failures++;
        this.stats.recordErrors++;
        if (this.givingUp) {
          this.stats.unrecorded++;
          log.error({ err: messageOf(err) }, 'could not record the job outcome before shutdown; its lease will expire and another worker will run it again');
          this.emit('settled', job, { outcome: 'unrecorded', error: error ?? undefined });
          return;
        }
        if (failures === 1 || failures % 10 === 0) log.warn({ err: messageOf(err), failures }, 'recording the job outcome failed; retrying');
        await sleep(backoffMs(failures));
      }
    }
  }

  private markLost(entry: ActiveJob, message: string): void {
    entry.state = 'lost';
    this.stats.lost++;
    entry.log.warn(message);
    entry.controller.abort(new Error(`lease on job ${entry.job.id} lost: another worker owns it now`));
    this.emit('settled', entry.job, { outcome: 'lost' });
  }

  private async beat(entry: ActiveJob): Promise<void> {
    if (entry.heartbeatInFlight || (entry.state !== 'running' && entry.state !== 'settling')) return;
    entry.heartbeatInFlight = true;
    try {
      const ours = await renewLease(this.pool, entry.job.id, this.workerId, this.leaseMs);
      // While settling, the outcome write itself finds out (and completing makes renewals return false).
      if (!ours && entry.state === 'running') {
        clearInterval(entry.heartbeat);
        this.markLost(entry, 'lease lost (taken over by another worker?); aborting the job');
      }
    } catch (err) {
      this.stats.heartbeatErrors++;
      entry.log.warn({ err: messageOf(err) }, 'lease renewal failed; retrying at the next heartbeat');
    } finally {
      entry.heartbeatInFlight = false;
    }
  }

  private async handBack(entry: ActiveJob): Promise<void> {
    if (entry.state !== 'running') return; // settling: its own write finishes (or gives up); lost: not ours
    entry.state = 'handing-back';
    clearInterval(entry.heartbeat);
    entry.controller.abort(new Error('worker shutting down: job handed back to the queue'));
    for (let failures = 0; failures < 3; failures++) {
      try {
        const released = await releaseJob(this.pool, entry.job.id, this.workerId);
        if (released) {
          this.stats.handedBack++;
          entry.log.info('job handed back to the queue');
          this.emit('settled', entry.job, { outcome: 'handed-back' });
        } else {
          this.markLost(entry, 'job to hand back is no longer ours');
        }
        return;
      } catch (err) {
        entry.log.warn({ err: messageOf(err) }, 'handing the job back failed');
        await sleep(backoffMs(failures + 1));
      }
    }
    this.stats.unrecorded++;
    entry.log.error('could not hand the job back; its lease will expire and another worker will take it over');
    this.emit('settled', entry.job, { outcome: 'unrecorded' });
  }
}
