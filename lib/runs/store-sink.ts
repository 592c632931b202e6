/**
 * The worker's EventSink: every transition of a run is written to the database FIRST, then published
 * (Socket.IO, through a RunEventPublisher), so a client that reads the database after an event has
 * arrived always sees at least what the event said.
 *
 * - run.started / run.finished → PipelineRun (status, started_at, finished_at), with a `commit_status` job
 *   for a run started by a forge (runStatusChanged, ./transitions.ts), in the same transaction.
 * - stage.queued / stage.waiting_approval / stage.started / stage.finished → StageRun (status, attempt, exit code, executor,
 *   reason, timestamps). stage.waiting_lock is only published: the locks (./stage-locks.ts) wrote StageRun.waitingFor.
 * - stage.log lines (already masked by the orchestrator) are batched per stage run into LogChunk rows:
 *   a chunk is written when a stage's buffer reaches `chunkBytes` (64 KiB) or `flushIntervalMs`
 *   (100 ms) after the first buffered line, whichever comes first, with `seq` 1, 2, 3... per stage run
 *   and contiguous line numbers; each stored chunk is published as one `stage.log_chunk`. A chunk never
 *   spans two attempts. Before a stage's `stage.finished` is written, its buffered lines are stored, so a
 *   finished stage's log in the database is complete.
 * - The per-stage log cap (./log-cap.ts) keeps the head and the tail of a huge log with a marker line.
 *
 * Everything (orchestrator events and timer flushes) runs one operation at a time, in order.
 *
 * Database outages (PostgreSQL restarting, a dropped connection) do not stop the run: a write that fails
 * with a TRANSIENT connection error (see isTransientDatabaseError) is retried with backoff (100 ms → 2 s)
 * for up to `dbRetryMs` (default BUILDIT_DB_RETRY_MS or 60 s) per write, while later events wait behind it,
 * so order is kept (write, then publish; chunk seqs contiguous). Every write is safe to repeat: updates set
 * values, and a chunk insert that may have committed before the connection dropped is inserted with
 * ON CONFLICT (stage_run_id, seq) DO NOTHING and, when the row is already there, accepted only if it is
 * the very same chunk (else another worker writes this log: an error). Any other failed write, or an outage
 * longer than dbRetryMs, is thrown to the orchestrator (at once, or at the next event for a timer flush):
 * it then stops the run. A failed publish only loses the live event (the database has it): it is logged.
 */
import { dbRetryMsFromEnv, logCapBytesFromEnv } from '../config/env';
import type { ServerRunEvent, RunEventPublisher, StageLogChunkEvent } from '../events/server-events';
import type { EventSink, LogStream, RunEvent } from '../events/types';
import { sleep } from '../async';
import { insertLogChunk, readLogChunk, type LogChunkRow, type StoredLogPosition } from './log-chunks';
import type { PrismaClient } from '../generated/prisma/client';
import { createLogger, type Logger } from '../log';
import { DEFAULT_LOG_TAIL_BYTES, lineBytes, StageLogCap, type CappedLine } from './log-cap';
import { STREAM_CODES } from './log-lines';
import { runStatusChanged } from './transitions';

export const DEFAULT_FLUSH_INTERVAL_MS = 100;
export const DEFAULT_CHUNK_BYTES = 64 * 1024;
const RETRY_BACKOFF_START_MS = 100;
const RETRY_BACKOFF_MAX_MS = 2_000;

export interface StoreSinkOptions {
  prisma: PrismaClient;
  publisher: RunEventPublisher;
  runId: string;
  tenantId: string;
  /** StageRun ids by planned stage id. */
  stageRunIds: ReadonlyMap<string, string>;
  flushIntervalMs?: number;
  chunkBytes?: number;
  /** Per stage; default BUILDIT_LOG_CAP_BYTES or 100 MiB. */
  logCapBytes?: number;
  /** Kept tail of a capped log; default 1 MiB (at most half the cap). */
  logTailBytes?: number;
  /** Current attempt by stage id (recovery: the attempt being resumed); default 1. */
  attempts?: ReadonlyMap<string, number>;
  /** Stored log positions by StageRun id (recovery); stages not listed start empty. */
  storedLogs?: ReadonlyMap<string, StoredLogPosition>;
  /**
   * How long one write is retried while the database is unreachable (transient connection errors only);
   * default BUILDIT_DB_RETRY_MS or 60 s. 0 = no retry.
   */
  dbRetryMs?: number;
  logger?: Logger;
}

interface StageLogState {
  stageId: string;
  stageRunId: string;
  attempt: number;
  nextSeq: number;
  nextLine: number;
  buffer: CappedLine[];
  bufferBytes: number;
  cap: StageLogCap;
}

export class StoreSink implements EventSink {
  private readonly prisma: PrismaClient;
  private readonly publisher: RunEventPublisher;
  private readonly target: { tenantId: string; runId: string };
  private readonly flushIntervalMs: number;
  private readonly chunkBytes: number;
  private readonly capBytes: number;
  private readonly tailBytes: number;
  private readonly dbRetryMs: number;
  private readonly logger: Logger;
  private readonly logs = new Map<string, StageLogState>();
  private tail: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private failure: unknown = null;
  private closed = false;
  /** Operations queued or running in `exclusive`. */
  private pending = 0;
  private detached = false;

  constructor(private readonly options: StoreSinkOptions) {
    this.prisma = options.prisma;
    this.publisher = options.publisher;
    this.target = { tenantId: options.tenantId, runId: options.runId };
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.capBytes = options.logCapBytes ?? logCapBytesFromEnv();
    this.tailBytes = options.logTailBytes ?? DEFAULT_LOG_TAIL_BYTES;
    this.dbRetryMs = options.dbRetryMs ?? dbRetryMsFromEnv();
    this.logger = options.logger ?? createLogger('store-sink', { runId: options.runId });
  }

  emit(event: RunEvent): void | Promise<void> {
    // Fast path for the common case (a log line, nothing in flight): buffer it synchronously and return
    // nothing, which keeps a chatty stage from paying for a promise per line (the orchestrator's event
    // stream only waits for deliveries that return a promise). Order is kept: nothing is pending.
    if (event.type === 'stage.log' && this.pending === 0 && !this.detached && !this.failure) {
      let state: StageLogState;
      try {
        state = this.logState(event.stage);
        this.bufferLine(state, event);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      if (state.bufferBytes < this.chunkBytes) {
        if (state.buffer.length > 0) this.armTimer();
        return;
      }
      return this.exclusive(() => this.flushStage(state));
    }
    return this.exclusive(async () => {
      if (this.detached) return;
      if (this.failure) throw this.failure;
      await this.handle(event);
    });
  }

  /**
   * This worker no longer owns the run (shutdown hand-back, lost lease): from now on nothing is written
   * or published, and buffered lines are dropped (the next worker reads them again from the executor).
   */
  detach(): void {
    this.detached = true;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const state of this.logs.values()) {
      state.buffer = [];
      state.bufferBytes = 0;
    }
  }

  /** Stores every buffered line (not the held tails of capped logs: those wait for their stage's end). */
  flush(): Promise<void> {
    return this.exclusive(() => this.flushAll());
  }

  /** Stops the timer and stores what is buffered; later timer flushes do not happen. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
  }

  /** Runs `operation` after every operation before it (events and timer flushes never interleave). */
  private exclusive(operation: () => Promise<void>): Promise<void> {
    this.pending++;
    const result = this.tail.then(operation);
    this.tail = result.then(
      () => void this.pending--,
      () => void this.pending--,
    );
    return result;
  }

  private async handle(event: RunEvent): Promise<void> {
    const at = new Date(event.time);
    switch (event.type) {
      case 'run.started':
        await this.write('mark the run running', () =>
          this.prisma.$transaction(async (tx) => {
            await tx.pipelineRun.updateMany({
              where: { id: event.runId, status: { in: ['queued', 'running'] } },
              data: { status: 'running' },
            });
            // started_at is the first start (a recovered run keeps it).
            await tx.pipelineRun.updateMany({ where: { id: event.runId, startedAt: null }, data: { startedAt: at } });
            await runStatusChanged(tx, event.runId);
          }),
        );
        break;
      case 'stage.queued': {
        const id = this.stageRunId(event.stage);
        await this.write('mark a stage queued', () => this.prisma.stageRun.update({ where: { id }, data: { status: 'queued' } }));
        break;
      }
      case 'stage.waiting_approval': {
        const id = this.stageRunId(event.stage);
        await this.write('mark a stage waiting for approval', () => this.prisma.stageRun.update({ where: { id }, data: { status: 'waiting_approval' } }));
        break;
      }
      case 'stage.started': {
        const state = this.logState(event.stage);
        if (event.attempt !== state.attempt) {
          // A chunk never spans two attempts (a recovering worker counts the lines of one attempt).
          await this.flushStage(state);
          state.attempt = event.attempt;
        }
        const id = this.stageRunId(event.stage);
        await this.write('mark a stage started', async () => {
          await this.prisma.stageRun.update({
            where: { id },
            data: { status: 'running', attempt: event.attempt, executor: event.executor, exitCode: null, reason: null, handleId: null },
          });
          await this.prisma.stageRun.updateMany({ where: { id, startedAt: null }, data: { startedAt: at } });
        });
        break;
      }
      case 'stage.log': {
        const state = this.logState(event.stage);
        this.bufferLine(state, event);
        if (state.bufferBytes >= this.chunkBytes) await this.flushStage(state);
        else if (state.buffer.length > 0) this.armTimer();
        // stage.log itself is not published: the stored chunk is.
        return;
      }
      case 'stage.finished': {
        const state = this.logState(event.stage);
        for (const line of state.cap.finish()) this.buffer(state, line);
        await this.flushStage(state);
        await this.write('mark a stage finished', () =>
          this.prisma.stageRun.update({
            where: { id: state.stageRunId },
            data: {
              status: event.status,
              exitCode: event.exitCode,
              reason: event.reason ?? null,
              ...(event.outputs ? { outputs: event.outputs } : {}),
              finishedAt: at,
              // 0 = never started: keep the row's attempt (1) rather than store an attempt that never was.
              ...(event.attempt > 0 ? { attempt: event.attempt } : {}),
            },
          }),
        );
        break;
      }
      case 'run.finished':
        await this.flushAll();
        await this.write('mark the run finished', () =>
          this.prisma.$transaction(async (tx) => {
            await tx.pipelineRun.update({ where: { id: event.runId }, data: { status: event.status, finishedAt: at } });
            await runStatusChanged(tx, event.runId);
          }),
        );
        break;
    }
    await this.publish(event);
  }

  /**
   * Runs one database write (safe to repeat), retrying it through transient connection errors for up to
   * dbRetryMs. Other errors, and an outage that lasts longer, are thrown. Once detached, it stops trying.
   */
  private async write<T>(what: string, operation: () => Promise<T>): Promise<T> {
    const startedAt = Date.now();
    for (let failures = 0; ;) {
      try {
        const result = await operation();
        if (failures > 0) {
          this.logger.info({ what, failures, outageMs: Date.now() - startedAt }, 'the database is back: the write went through');
        }
        return result;
      } catch (error) {
        if (this.detached || !isTransientDatabaseError(error)) throw error;
        failures++;
        const elapsed = Date.now() - startedAt;
        if (elapsed >= this.dbRetryMs) {
          throw new Error(
            `could not ${what}: the database was unreachable for ${Math.round(elapsed / 100) / 10} s ` +
              `(retried ${failures} times; the limit is BUILDIT_DB_RETRY_MS=${this.dbRetryMs}): ${describeError(error)}`,
            { cause: error },
          );
        }
        if (failures === 1 || failures % 10 === 0) {
          this.logger.warn({ what, failures, err: describeError(error) }, 'database unreachable: retrying the write with backoff');
        }
        const backoff = Math.min(RETRY_BACKOFF_MAX_MS, RETRY_BACKOFF_START_MS * 2 ** (failures - 1));
        await sleep(Math.min(backoff * (0.8 + Math.random() * 0.4), this.dbRetryMs - elapsed));
        if (this.detached) throw new Error(`could not ${what}: this worker stopped supervising the run`, { cause: error });
      }
    }
  }

  private stageRunId(stageId: string): string {
    const id = this.options.stageRunIds.get(stageId);
    if (!id) throw new Error(`stage "${stageId}" has no StageRun row in run ${this.options.runId}`);
    return id;
  }

  private logState(stageId: string): StageLogState {
    let state = this.logs.get(stageId);
    if (!state) {
      const stageRunId = this.stageRunId(stageId);
      const stored = this.options.storedLogs?.get(stageRunId) ?? { chunks: 0, lines: 0, bytes: 0 };
      state = {
        stageId,
        stageRunId,
        attempt: this.options.attempts?.get(stageId) ?? 1,
        nextSeq: stored.chunks + 1,
        nextLine: stored.lines + 1,
        buffer: [],
        bufferBytes: 0,
        cap: new StageLogCap(this.capBytes, this.tailBytes, stored.bytes),
      };
      this.logs.set(stageId, state);
    }
    return state;
  }

  /** Through the cap into the stage's buffer. One stored line per line: a line with newlines in it (a multi-line reason) is split. */
  private bufferLine(state: StageLogState, event: { stream: LogStream; line: string }): void {
    const parts = event.line.includes('\n') ? event.line.split('\n') : [event.line];
    for (const part of parts) {
      for (const line of state.cap.push({ stream: event.stream, line: part, attempt: state.attempt })) this.buffer(state, line);
    }
  }

  private buffer(state: StageLogState, line: CappedLine): void {
    state.buffer.push(line);
    state.bufferBytes += lineBytes(line.line);
  }

  private armTimer(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.exclusive(() => this.flushAll()).catch((error: unknown) => {
        // Reported to the orchestrator at the next event.
        this.failure ??= error;
      });
    }, this.flushIntervalMs);
    this.timer.unref();
  }

  private async flushAll(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.detached) return;
    for (const state of this.logs.values()) await this.flushStage(state);
  }

  /** Stores the stage's buffered lines as chunks of at most ~chunkBytes, one attempt per chunk. */
  private async flushStage(state: StageLogState): Promise<void> {
    while (state.buffer.length > 0) {
      const attempt = state.buffer[0]!.attempt;
      const lines: CappedLine[] = [];
      let bytes = 0;
      for (const line of state.buffer) {
        if (line.attempt !== attempt) break;
        const size = lineBytes(line.line);
        if (lines.length > 0 && bytes + size > this.chunkBytes) break;
        lines.push(line);
        bytes += size;
      }
      await this.writeChunk(state, lines, attempt);
      state.buffer.splice(0, lines.length);
      state.bufferBytes -= bytes;
    }
    state.bufferBytes = 0;
  }

  private async writeChunk(state: StageLogState, lines: CappedLine[], attempt: number): Promise<void> {
    const seq = state.nextSeq;
    const firstLine = state.nextLine;
    const text = lines.map((l) => `${l.line}\n`).join('');
    const streams = lines.map((l) => STREAM_CODES[l.stream]).join('');
    const createdAt = await this.write('store a log chunk', () =>
      this.insertChunkOnce({ stageRunId: state.stageRunId, seq, text, firstLine, lineCount: lines.length, streams, attempt }),
    );
    state.nextSeq = seq + 1;
    state.nextLine = firstLine + lines.length;
    const event: StageLogChunkEvent = {
      type: 'stage.log_chunk',
      time: createdAt.toISOString(),
      runId: this.target.runId,
      stage: state.stageId,
      stageRunId: state.stageRunId,
      seq,
      firstLine,
      lines: lines.map(({ stream, line }) => ({ stream, line })),
    };
    await this.publish(event);
  }

  /**
   * Inserts a chunk, or finds it already stored: an insert retried after a dropped connection may have
   * committed the first time. Repeating is safe only when the stored row is this very chunk.
   */
  private async insertChunkOnce(chunk: LogChunkRow): Promise<Date> {
    const inserted = await insertLogChunk(this.prisma, chunk);
    if (inserted) return inserted;
    const stored = await readLogChunk(this.prisma, chunk.stageRunId, chunk.seq);
    const same = (['text', 'firstLine', 'lineCount', 'streams', 'attempt'] as const).every((field) => stored?.[field] === chunk[field]);
    if (!stored || !same) {
      throw new Error(
        `log chunk ${chunk.seq} of stage run ${chunk.stageRunId} is already stored with other lines: ` +
          'another worker is writing this log (this worker lost the run?)',
      );
    }
    this.logger.info({ stageRunId: chunk.stageRunId, seq: chunk.seq }, 'log chunk was stored before the connection dropped: not stored twice');
    return stored.createdAt;
  }

  private async publish(event: ServerRunEvent): Promise<void> {
    try {
      await this.publisher.publish(this.target, event);
    } catch (error) {
      this.logger.warn({ err: error, event: event.type }, 'could not publish a run event (it is stored; live viewers miss it)');
    }
  }
}

/** Socket errors of a connection that failed or dropped. */
const TRANSIENT_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/**
 * PostgreSQL SQLSTATEs of a server going away or not there yet: 57P01 admin_shutdown, 57P02 crash_shutdown,
 * 57P03 cannot_connect_now (starting up / shutting down / recovering); class 08 (connection exception) is
 * matched by prefix. Prisma's codes for the same: P1001 can't reach the server, P1008 timeout, P1017 server
 * closed the connection.
 */
const TRANSIENT_SQL_CODES = new Set(['57P01', '57P02', '57P03', 'P1001', 'P1008', 'P1017']);
/** @prisma/adapter-pg's kinds for the same (in a DriverAdapterError's `cause`). */
const TRANSIENT_ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout']);
/** node-postgres errors without a code (the socket closed under a query, a pool that could not connect). */
const TRANSIENT_MESSAGE =
  /Connection terminated|Client has encountered a connection error|not queryable|timeout exceeded when trying to connect|terminating connection due to|the database system is (starting up|shutting down|in recovery mode|not yet accepting connections)|Server has closed the connection|Can't reach database server|\b(ECONNREFUSED|ECONNRESET)\b/i;

/**
 * True for errors that mean "the database connection is down, try again later" (PostgreSQL restarting,
 * a dropped connection), as thrown by pg directly or wrapped by Prisma and its pg adapter; false for
 * everything else (constraint violations, bad SQL...), which retrying would not fix.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number): boolean => {
    if (value === null || typeof value !== 'object' || seen.has(value) || depth > 6) return false;
    seen.add(value);
    const e = value as { code?: unknown; originalCode?: unknown; kind?: unknown; message?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown } };
    for (const code of [e.code, e.originalCode]) {
      if (typeof code !== 'string') continue;
      if (TRANSIENT_SOCKET_CODES.has(code) || TRANSIENT_SQL_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true;
    }
    if (typeof e.kind === 'string' && TRANSIENT_ADAPTER_KINDS.has(e.kind)) return true;
    if (typeof e.message === 'string' && TRANSIENT_MESSAGE.test(e.message)) return true;
    if (value instanceof AggregateError && value.errors.some((inner) => visit(inner, depth + 1))) return true;
    return visit(e.cause, depth + 1) || visit(e.meta?.driverAdapterError, depth + 1);
  };
  return visit(error, 0);
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}
