/**
 * The cron scheduler: turns `on "schedule" cron="..."` triggers into runs.
 *
 * Election. Every worker runs a Scheduler; exactly one is ELECTED: the one holding the session-level
 * advisory lock SCHEDULER_LOCK (pg_try_advisory_lock) on a dedicated connection. The others try again
 * every `electionRetryMs` (5 s). The lock lives and dies with its connection, so when the elected worker
 * dies or its connection is cut (pg_terminate_backend, network), PostgreSQL releases it and another
 * scheduler takes over at its next attempt. The elected one checks its lock connection before every tick
 * and stops ticking as soon as that connection reports an error or ends.
 *
 * Ticks. The elected scheduler ticks every `tickMs` (15 s), aligned to the wall clock (:00, :15, ...), and
 * first right after its election. A tick lists the pipelines (not archived, with a stored config), parses
 * the configs it has not seen at that `updatedAt` (lib/pipeline loadPipeline; results cached by pipeline id
 * and updatedAt, so a tick does not re-parse anything that did not change), and for each pipeline with
 * `on "schedule"` triggers computes the slot due in the window (last tick, now] (lib/schedule/slots.ts).
 * Each due (pipeline, slot) becomes a `schedule` job (worker/jobs/schedule.ts, which creates the run with
 * lib/runs/create-run) with dedupe key `schedule:<pipelineId>:<slot ISO>`.
 *
 * Exactly once per slot. Belt and braces: the election makes a second scheduler rare (only a failover
 * while the old holder is still mid-tick, or clocks that disagree), and the jobs table's UNIQUE
 * dedupe_key makes it harmless: whoever enqueues a slot second gets the existing job back. The job
 * handler is idempotent too (it records the run id in the job row, in the transaction creating the run).
 *
 * Catch-up policy. After downtime (no scheduler elected for a while) or on a failover, the new elected
 * scheduler does not know when the last tick was: its first window is (now - catchUpMs, now] (24 h by
 * default), and it fires, per pipeline, only the MOST RECENT slot of that window, and only if it has not
 * been fired yet (the dedupe key): a pipeline every minute down for an hour gets one run, not 60. Slots
 * before the pipeline's last change (its updatedAt: creation, or the edit that may have added the schedule)
 * never fire, so adding `on "schedule" cron="0 3 * * *"` at noon does not start a run for 03:00 that day
 * at the next election. (The price: an edit made while no scheduler ran drops the slot missed before it.)
 * Once ticking, the window starts at the previous tick, which already excludes slots from before an edit.
 * A tick that failed to enqueue something keeps its window open: the next tick covers it again
 * (re-enqueueing is a no-op).
 *
 * Time zone: UTC. Invalid stored configs are skipped with one warning per config version.
 */
import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { PrismaClient } from '../db/client';
import { messageOf } from '../errors';
import type { Logger } from '../log';
import { loadPipeline } from '../pipeline';
import { enqueueJob } from '../queue/enqueue';
import { enqueueDueDriftChecks } from '../stacks/drift';
import { dueSlot, scheduleCrons } from './slots';

/** The job kind that creates a scheduled run (worker/jobs/schedule.ts). */
export const SCHEDULE_JOB_KIND = 'schedule';

/** The advisory lock of the elected scheduler: the two-int4 form ("buil", "schd"), per database. */
export const SCHEDULER_LOCK: readonly [number, number] = [0x6275696c, 0x73636864];

export const DEFAULT_TICK_MS = 15_000;
export const DEFAULT_ELECTION_RETRY_MS = 5_000;
export const DEFAULT_CATCH_UP_MS = 24 * 60 * 60 * 1000;

/** Payload of a `schedule` job. `runId` is added by the handler, with the run. */
export interface ScheduleJobPayload {
  pipelineId: string;
  /** The slot, ISO 8601 UTC. */
  slot: string;
}

export function scheduleDedupeKey(pipelineId: string, slot: Date): string {
  return `schedule:${pipelineId}:${slot.toISOString()}`;
}

export interface SchedulerOptions {
  /** Enqueues go through this pool; its `options` also configure the lock connection by default. */
  pool: pg.Pool;
  prisma: PrismaClient;
  /** Settings of the dedicated lock connection (default: pool.options). */
  connection?: pg.ClientConfig;
  /** Tick interval, aligned to the clock (default 15 s). */
  tickMs?: number;
  /** How often a scheduler that is not elected tries again (default 5 s). */
  electionRetryMs?: number;
  /** How far back the first tick after an election looks for a missed slot (default 24 h). */
  catchUpMs?: number;
  /** Attempts of each `schedule` job (default 10). */
  jobMaxAttempts?: number;
  /** The clock (tests). */
  now?: () => Date;
  /** The advisory lock (tests that need schedulers that do not see each other). */
  lock?: readonly [number, number];
  log?: Logger;
}

export interface FiredSlot {
  pipelineId: string;
  slot: Date;
  jobId: string;
  /** false when the slot's job already existed (another scheduler, or an earlier tick, enqueued it). */
  created: boolean;
}

export interface TickResult {
  /** The window (after, now]. */
  after: Date;
  now: Date;
  /** Pipelines with at least one schedule trigger. */
  scheduledPipelines: number;
  fired: FiredSlot[];
  /** Slots that could not be enqueued (retried by the next tick). */
  failures: number;
}

export interface SchedulerEvents {
  elected: [];
  /** The lock connection was lost while elected (or closed by stop()). */
  demoted: [reason: string];
  tick: [result: TickResult];
}

interface CacheEntry {
  updatedAt: number;
  crons: string[];
}

interface ScheduledPipeline {
  id: string;
  /** The pipeline's last change: slots at or before it never fire. */
  changedAt: Date;
  crons: string[];
}

/** The elected scheduler checks its lock connection before each tick; no answer within this = lost. */
const LOCK_CHECK_TIMEOUT_MS = 10_000;

/** Pipelines whose configs are fetched per query when they are not cached (bind-parameter limits). */
const FETCH_CHUNK = 500;

export class Scheduler extends EventEmitter<SchedulerEvents> {
  private readonly pool: pg.Pool;
  private readonly prisma: PrismaClient;
  private readonly connection: pg.ClientConfig;
  private readonly tickMs: number;
  private readonly electionRetryMs: number;
  private readonly catchUpMs: number;
  private readonly jobMaxAttempts: number;
  private readonly now: () => Date;
  private readonly lock: readonly [number, number];
  private readonly log: Logger | undefined;

  private client: pg.Client | null = null;
  private leader = false;
  private stopped = true;
  private electionTimer: NodeJS.Timeout | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private electing: Promise<void> | null = null;
  private ticking: Promise<void> | null = null;
  /** End of the last window handled; null: unknown (not ticked since the election). */
  private lastTickAt: Date | null = null;
  private readonly cache = new Map<string, CacheEntry>();
  private failedAttempts = 0;

  constructor(options: SchedulerOptions) {
    super();
    this.pool = options.pool;
    this.prisma = options.prisma;
    this.connection = options.connection ?? options.pool.options;
    this.tickMs = positive('tickMs', options.tickMs ?? DEFAULT_TICK_MS);
    this.electionRetryMs = positive('electionRetryMs', options.electionRetryMs ?? DEFAULT_ELECTION_RETRY_MS);
    this.catchUpMs = positive('catchUpMs', options.catchUpMs ?? DEFAULT_CATCH_UP_MS);
    this.jobMaxAttempts = positive('jobMaxAttempts', options.jobMaxAttempts ?? 10);
    this.now = options.now ?? (() => new Date());
    this.lock = options.lock ?? SCHEDULER_LOCK;
    this.log = options.log;
  }

  /** True while this scheduler holds the lock. */
  get isLeader(): boolean {
    return this.leader;
  }

  /**
   * Starts taking part in the election. Resolves after the first attempt (elected or not); when the
   * database is unreachable it keeps trying in the background.
   */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    await this.elect();
  }

  /** Stops ticking and electing, waits for a running tick, releases the lock and closes its connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    await this.electing?.catch(() => {});
    await this.ticking?.catch(() => {});
    const client = this.client;
    this.client = null;
    const wasLeader = this.leader;
    this.leader = false;
    this.lastTickAt = null;
    if (!client) return;
    if (wasLeader) {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [...this.lock]).catch(() => {});
      this.emit('demoted', 'stopped');
      this.log?.info('scheduler stopped; lock released');
    }
    await client.end().catch(() => {});
  }

  /**
   * One tick, whether elected or not (the timer calls it only while elected; tests call it directly):
   * enqueues the `schedule` job of every slot due in (last tick, now].
   */
  async tick(): Promise<TickResult> {
    const now = this.now();
    const catchingUp = this.lastTickAt === null;
    const after = this.lastTickAt ?? new Date(now.getTime() - this.catchUpMs);
    const pipelines = await this.scheduledPipelines();
    const fired: FiredSlot[] = [];
    let failures = 0;
    for (const pipeline of pipelines) {
      // Only a catch-up window reaches back before the pipeline's last change; a running scheduler's window
      // starts at its previous tick, and an edit just after a slot must not drop that slot.
      const from = catchingUp && pipeline.changedAt.getTime() > after.getTime() ? pipeline.changedAt : after;
      const slot = dueSlot(pipeline.crons, from, now);
      if (!slot) continue;
      const payload: ScheduleJobPayload = { pipelineId: pipeline.id, slot: slot.toISOString() };
      try {
        const job = await enqueueJob(this.pool, {
          kind: SCHEDULE_JOB_KIND,
          payload,
          dedupeKey: scheduleDedupeKey(pipeline.id, slot),
          maxAttempts: this.jobMaxAttempts,
        });
        fired.push({ pipelineId: pipeline.id, slot, jobId: job.id, created: job.created });
        if (job.created) this.log?.info({ pipelineId: pipeline.id, slot: payload.slot, jobId: job.id }, 'scheduled run enqueued');
      } catch (error) {
        failures++;
        this.log?.error({ err: error, pipelineId: pipeline.id, slot: payload.slot }, 'could not enqueue a scheduled run; retrying next tick');
      }
    }
    try {
      // Stacks' drift checks run on the same clock (lib/stacks/drift.ts).
      await enqueueDueDriftChecks(this.pool, this.prisma, after, now);
    } catch (error) {
      failures++;
      this.log?.error({ err: messageOf(error) }, 'could not enqueue the due drift checks; retrying next tick');
    }
    // A failed slot keeps the window open so the next tick tries it again.
    if (failures === 0 && (!this.lastTickAt || now.getTime() > this.lastTickAt.getTime())) this.lastTickAt = now;
    const result: TickResult = { after, now, scheduledPipelines: pipelines.length, fired, failures };
    this.emit('tick', result);
    return result;
  }

  /** Pipelines with schedule triggers, parsing only configs not seen at their current updatedAt. */
  private async scheduledPipelines(): Promise<ScheduledPipeline[]> {
    const rows = await this.prisma.pipeline.findMany({
      where: { archivedAt: null, config: { not: null } },
      select: { id: true, updatedAt: true },
    });
    const stale = rows.filter((row) => this.cache.get(row.id)?.updatedAt !== row.updatedAt.getTime()).map((row) => row.id);
    for (let i = 0; i < stale.length; i += FETCH_CHUNK) {
      const full = await this.prisma.pipeline.findMany({
        where: { id: { in: stale.slice(i, i + FETCH_CHUNK) } },
        select: { id: true, updatedAt: true, config: true, configPath: true },
      });
      for (const pipeline of full) this.cache.set(pipeline.id, this.parse(pipeline));
    }
    const listed = new Set(rows.map((row) => row.id));
    for (const id of this.cache.keys()) if (!listed.has(id)) this.cache.delete(id);

    const scheduled: ScheduledPipeline[] = [];
    for (const row of rows) {
      const crons = this.cache.get(row.id)?.crons ?? [];
      if (crons.length > 0) scheduled.push({ id: row.id, changedAt: row.updatedAt, crons });
    }
    return scheduled;
  }

  private parse(pipeline: { id: string; updatedAt: Date; config: string | null; configPath: string }): CacheEntry {
    const entry: CacheEntry = { updatedAt: pipeline.updatedAt.getTime(), crons: [] };
    if (pipeline.config === null) return entry;
    const { spec, diagnostics } = loadPipeline(pipeline.config, pipeline.configPath);
    if (!spec) {
      const first = diagnostics.find((d) => d.severity === 'error');
      this.log?.warn(
        { pipelineId: pipeline.id, error: first ? `${first.file}:${first.line}:${first.column}: ${first.message}` : 'unreadable' },
        'stored pipeline config is invalid; its schedule is skipped until it is fixed',
      );
      return entry;
    }
    entry.crons = scheduleCrons(spec);
    return entry;
  }

  // --- election --------------------------------------------------------------------------------

  private elect(): Promise<void> {
    this.electing ??= this.tryElect().finally(() => {
      this.electing = null;
    });
    return this.electing;
  }

  private async tryElect(): Promise<void> {
    if (this.stopped || this.leader) return;
    try {
      const client = this.client ?? (await this.connect());
      if (this.stopped) return;
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [...this.lock]);
      this.failedAttempts = 0;
      if (rows[0]?.locked) {
        if (this.stopped || this.client !== client) {
          // stop() or a lost connection raced us: do not keep a lock nobody ticks for.
          await client.query('SELECT pg_advisory_unlock($1, $2)', [...this.lock]).catch(() => {});
          return;
        }
        this.becomeLeader();
        return;
      }
    } catch (error) {
      // Logged on the first failure and then once a minute or so, not every attempt.
      if (this.failedAttempts++ % 12 === 0) {
        this.log?.warn({ err: messageOf(error), attempts: this.failedAttempts }, 'scheduler election attempt failed; retrying');
      }
      this.dropClient();
    }
    this.scheduleElection();
  }

  private async connect(): Promise<pg.Client> {
    // TCP keepalive from 30 s of silence (not the OS default of 2 h), so a cut network errors the connection.
    const client = new pg.Client({ ...this.connection, application_name: 'buildit-scheduler', keepAlive: true, keepAliveInitialDelayMillis: 30_000 });
    // Without an error listener, a dropped connection would crash the process.
    client.on('error', (error) => this.onConnectionLost(client, error.message));
    client.on('end', () => this.onConnectionLost(client, 'connection ended'));
    this.client = client;
    try {
      await client.connect();
    } catch (error) {
      if (this.client === client) this.client = null;
      throw error;
    }
    return client;
  }

  private dropClient(): void {
    const client = this.client;
    this.client = null;
    client?.end().catch(() => {});
  }

  private onConnectionLost(client: pg.Client, reason: string): void {
    if (this.client !== client) return;
    this.client = null;
    client.end().catch(() => {});
    if (this.leader) this.demote(`lock connection lost: ${reason}`);
    if (!this.stopped) this.scheduleElection();
  }

  private becomeLeader(): void {
    this.leader = true;
    this.lastTickAt = null;
    this.log?.info({ tickMs: this.tickMs }, 'scheduler elected');
    this.emit('elected');
    this.runTick();
  }

  private demote(reason: string): void {
    this.leader = false;
    this.lastTickAt = null;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.tickTimer = null;
    this.log?.warn({ reason }, 'scheduler no longer elected');
    this.emit('demoted', reason);
  }

  private scheduleElection(): void {
    if (this.stopped || this.electionTimer) return;
    this.electionTimer = setTimeout(() => {
      this.electionTimer = null;
      void this.elect();
    }, this.electionRetryMs);
    this.electionTimer.unref?.();
  }

  // --- ticking ---------------------------------------------------------------------------------

  private runTick(): void {
    if (this.stopped || !this.leader || this.ticking) return;
    this.ticking = this.tickWhileElected().finally(() => {
      this.ticking = null;
      this.scheduleTick();
    });
  }

  private async tickWhileElected(): Promise<void> {
    const client = this.client;
    try {
      // Still holding the lock? A dead connection fails this (and its 'error' event demotes us).
      if (!client) throw new Error('no lock connection');
      await withTimeout(client.query('SELECT 1'), LOCK_CHECK_TIMEOUT_MS, 'the lock connection did not answer within 10 s');
    } catch (error) {
      if (this.leader && this.client === client && client) {
        this.onConnectionLost(client, messageOf(error));
      }
      return;
    }
    if (!this.leader || this.stopped) return;
    try {
      await this.tick();
    } catch (error) {
      this.log?.error({ err: error }, 'scheduler tick failed; retrying next tick');
    }
  }

  private scheduleTick(): void {
    if (this.stopped || !this.leader || this.tickTimer) return;
    const delay = this.tickMs - (this.now().getTime() % this.tickMs);
    this.tickTimer = setTimeout(() => {
      this.tickTimer = null;
      this.runTick();
    }, delay);
    this.tickTimer.unref?.();
  }

  private clearTimers(): void {
    if (this.electionTimer) clearTimeout(this.electionTimer);
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.electionTimer = null;
    this.tickTimer = null;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) throw new Error(`Scheduler: ${name} must be a positive number, got ${value}`);
  return value;
}
