// StoreSink against a real PostgreSQL with hand-made events (the orchestrator-driven cases are in
// worker/jobs/run-pipeline.test.ts), and the log cap on its own.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { RunEvent } from '../../lib/events/types';
import { formatBytes, lineBytes, StageLogCap, type CappedLine } from '../../lib/runs/log-cap';
import { chunkLines } from '../../lib/runs/log-lines';
import { readStoredLogPositions } from '../../lib/runs/log-chunks';
import { isTransientDatabaseError, StoreSink } from '../../lib/runs/store-sink';
import type { PrismaClient } from '../../lib/generated/prisma/client';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { RecordingPublisher, seedTenant, storedLog, triggerPipeline, type Seeded } from './helpers';

let db: TestDatabase;
let seeded: Seeded;
const silent = pino({ level: 'silent' });

before(async () => {
  db = await createTestDatabase();
  seeded = await seedTenant(db.prisma);
});
after(async () => {
  await db?.drop();
});

const KDL = `pipeline "s" { on "manual"; }
stage "a" {
    executor "local"
    run "true"
}
`;

async function newRun() {
  const { runId, stageRunIds } = await triggerPipeline(db.prisma, seeded, KDL);
  return { runId, stageRunId: stageRunIds.get('a')!, stageRunIds };
}

const time = () => new Date().toISOString();
const started = (runId: string): RunEvent => ({ type: 'stage.started', time: time(), runId, stage: 'a', attempt: 1, executor: 'local' });
const line = (runId: string, text: string, stream: 'stdout' | 'stderr' | 'system' = 'stdout'): RunEvent => ({
  type: 'stage.log',
  time: time(),
  runId,
  stage: 'a',
  stream,
  line: text,
  seq: 0,
});

describe('StoreSink', () => {
  test('lines are stored within ~100 ms of being printed, without waiting for another event', async () => {
    const { runId, stageRunId, stageRunIds } = await newRun();
    const publisher = new RecordingPublisher(db.prisma);
    const sink = new StoreSink({ prisma: db.prisma, publisher, runId, tenantId: seeded.tenantId, stageRunIds, logger: silent });
    await sink.emit(started(runId));
    await sink.emit(line(runId, 'one'));
    await sink.emit(line(runId, 'two', 'stderr'));
    assert.equal((await storedLog(db.prisma, stageRunId)).chunks.length, 0, 'batched, not one row per line');
    await new Promise((resolve) => setTimeout(resolve, 250));
    const log = await storedLog(db.prisma, stageRunId);
    assert.equal(log.chunks.length, 1);
    assert.deepEqual(chunkLines(log.chunks[0]!), [
      { stream: 'stdout', line: 'one' },
      { stream: 'stderr', line: 'two' },
    ]);
    assert.deepEqual(
      publisher.ofType('stage.log_chunk').map((e) => [e.seq, e.firstLine, e.lines.length]),
      [[1, 1, 2]],
    );
    await sink.close();
  });

  test('a stage.finished is written after every buffered line of its stage; a multi-line line is split', async () => {
    const { runId, stageRunId, stageRunIds } = await newRun();
    const publisher = new RecordingPublisher(db.prisma);
    const sink = new StoreSink({ prisma: db.prisma, publisher, runId, tenantId: seeded.tenantId, stageRunIds, flushIntervalMs: 60_000, logger: silent });
    await sink.emit(started(runId));
    await sink.emit(line(runId, 'last words'));
    await sink.emit(line(runId, 'reason: first\nsecond', 'system'));
    await sink.emit({
      type: 'stage.finished',
      time: time(),
      runId,
      stage: 'a',
      status: 'failed',
      exitCode: 2,
      attempt: 1,
      durationMs: 5,
      reason: 'exit code 2',
    });
    const types = publisher.published.map((p) => p.event.type);
    assert.deepEqual(types, ['stage.started', 'stage.log_chunk', 'stage.finished']);
    const log = await storedLog(db.prisma, stageRunId);
    assert.deepEqual(log.lines, ['last words', 'reason: first', 'second']);
    assert.equal(log.chunks[0]!.lineCount, 3);
    assert.equal(log.chunks[0]!.streams, 'oss');
    const row = await db.prisma.stageRun.findUniqueOrThrow({ where: { id: stageRunId } });
    assert.deepEqual({ status: row.status, exitCode: row.exitCode, reason: row.reason }, { status: 'failed', exitCode: 2, reason: 'exit code 2' });
    assert.deepEqual(await readStoredLogPositions(db.prisma, runId), new Map([[stageRunId, { chunks: 1, lines: 3, bytes: Buffer.byteLength(log.text) }]]));
    await sink.close();
  });

  test('a publisher that fails loses only the live event: the database has everything, the run goes on', async () => {
    const { runId, stageRunId, stageRunIds } = await newRun();
    const failing = { publish: () => Promise.reject(new Error('socket.io is down')) };
    const sink = new StoreSink({ prisma: db.prisma, publisher: failing, runId, tenantId: seeded.tenantId, stageRunIds, logger: silent });
    await sink.emit(started(runId));
    await sink.emit(line(runId, 'kept'));
    await sink.emit({ type: 'stage.finished', time: time(), runId, stage: 'a', status: 'succeeded', exitCode: 0, attempt: 1, durationMs: 5 });
    assert.deepEqual((await storedLog(db.prisma, stageRunId)).lines, ['kept']);
    assert.equal((await db.prisma.stageRun.findUniqueOrThrow({ where: { id: stageRunId } })).status, 'succeeded');
  });

  test('a failed write of a timed flush is reported to the orchestrator at the next event', async () => {
    const { runId } = await newRun();
    const sink = new StoreSink({
      prisma: db.prisma,
      publisher: new RecordingPublisher(db.prisma),
      runId,
      tenantId: seeded.tenantId,
      // A stage run id that does not exist: the chunk insert violates the foreign key.
      stageRunIds: new Map([['a', 'no-such-stage-run']]),
      flushIntervalMs: 20,
      logger: silent,
    });
    await sink.emit(line(runId, 'lost'));
    await new Promise((resolve) => setTimeout(resolve, 150));
    await assert.rejects(async () => sink.emit(line(runId, 'next')), /foreign key|log_chunks/i);
  });

  test('after detach nothing is written or published', async () => {
    const { runId, stageRunId, stageRunIds } = await newRun();
    const publisher = new RecordingPublisher(db.prisma);
    const sink = new StoreSink({ prisma: db.prisma, publisher, runId, tenantId: seeded.tenantId, stageRunIds, flushIntervalMs: 20, logger: silent });
    await sink.emit(started(runId));
    await sink.emit(line(runId, 'buffered'));
    sink.detach();
    await sink.emit(line(runId, 'after'));
    await sink.emit({ type: 'stage.finished', time: time(), runId, stage: 'a', status: 'succeeded', exitCode: 0, attempt: 1, durationMs: 5 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await sink.close();
    assert.equal((await storedLog(db.prisma, stageRunId)).chunks.length, 0);
    assert.equal((await db.prisma.stageRun.findUniqueOrThrow({ where: { id: stageRunId } })).status, 'running');
    assert.deepEqual(
      publisher.published.map((p) => p.event.type),
      ['stage.started'],
    );
  });
});

/** A connection error as node-postgres throws it when the server goes away under a query. */
const connectionDropped = () => new Error('Connection terminated unexpectedly');
const connectionRefused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED', errno: -111, syscall: 'connect' });

/**
 * db.prisma with injected failures: `failChunkInsertAfterCommit` chunk inserts run for real and then throw as
 * if the connection dropped before the reply (the row IS stored); `refuseStageUpdates` stageRun.update calls
 * throw ECONNREFUSED without running.
 */
function flakyPrisma(faults: { failChunkInsertAfterCommit?: number; refuseStageUpdates?: number; refuseEverything?: boolean }): PrismaClient {
  const prisma = db.prisma;
  return new Proxy(prisma, {
    get(target, property) {
      if (property === '$queryRawUnsafe') {
        return async (sql: string, ...values: unknown[]) => {
          if (faults.refuseEverything) throw connectionRefused();
          const result = await target.$queryRawUnsafe(sql, ...values);
          if (sql.includes('INSERT INTO log_chunks') && (faults.failChunkInsertAfterCommit ?? 0) > 0) {
            faults.failChunkInsertAfterCommit!--;
            throw connectionDropped();
          }
          return result;
        };
      }
      if (property === 'stageRun') {
        const delegate = target.stageRun;
        return new Proxy(delegate, {
          get(inner, name) {
            const value = Reflect.get(inner, name) as unknown;
            if (name !== 'update' || typeof value !== 'function') return value;
            return (...args: unknown[]) => {
              if (faults.refuseEverything) return Promise.reject(connectionRefused());
              if ((faults.refuseStageUpdates ?? 0) > 0) {
                faults.refuseStageUpdates!--;
                return Promise.reject(connectionRefused());
              }
              return (value as (...a: unknown[]) => Promise<unknown>).apply(inner, args);
            };
          },
        });
      }
      return Reflect.get(target, property) as unknown;
    },
  });
}

describe('StoreSink through database outages', () => {
  test('transient connection errors are told apart from real failures', () => {
    assert.equal(isTransientDatabaseError(connectionDropped()), true);
    assert.equal(isTransientDatabaseError(connectionRefused()), true);
    assert.equal(
      isTransientDatabaseError(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01', severity: 'FATAL' })),
      true,
    );
    assert.equal(isTransientDatabaseError(Object.assign(new Error('the database system is starting up'), { code: '57P03' })), true);
    assert.equal(isTransientDatabaseError(Object.assign(new Error('connection failure'), { code: '08006' })), true);
    // Prisma's wrapping of @prisma/adapter-pg errors: a code of its own, the adapter's error in meta.
    const prismaWrapped = Object.assign(new Error('Raw query failed. Code: `N/A`.'), {
      code: 'P2010',
      meta: { driverAdapterError: { name: 'DriverAdapterError', cause: { kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 5432 } } },
    });
    assert.equal(isTransientDatabaseError(prismaWrapped), true);
    assert.equal(isTransientDatabaseError(Object.assign(new Error('Server has closed the connection.'), { code: 'P1017' })), true);
    assert.equal(isTransientDatabaseError(new Error('outer', { cause: connectionRefused() })), true);

    assert.equal(
      isTransientDatabaseError(Object.assign(new Error('insert or update on table "log_chunks" violates foreign key constraint'), { code: '23503' })),
      false,
    );
    assert.equal(
      isTransientDatabaseError(
        Object.assign(new Error('Raw query failed. Code: `23505`.'), {
          code: 'P2010',
          meta: { driverAdapterError: { cause: { kind: 'UniqueConstraintViolation' } } },
        }),
      ),
      false,
    );
    assert.equal(isTransientDatabaseError(new Error('syntax error at or near "SELEC"')), false);
    assert.equal(isTransientDatabaseError('ECONNREFUSED'), false, 'not an error object');
    assert.equal(isTransientDatabaseError(null), false);
  });

  test('a write that fails with a connection error is retried; a chunk that committed before the drop is not stored twice', async () => {
    const { runId, stageRunId, stageRunIds } = await newRun();
    const publisher = new RecordingPublisher(db.prisma);
    const faults = { failChunkInsertAfterCommit: 2, refuseStageUpdates: 3 };
    const sink = new StoreSink({
      prisma: flakyPrisma(faults),
      publisher,
      runId,
      tenantId: seeded.tenantId,
      stageRunIds,
      flushIntervalMs: 60_000,
      chunkBytes: 8,
      logger: silent,
    });
    await sink.emit(started(runId)); // refused 3 times, then written
    for (const text of ['one', 'two', 'three', 'four']) await sink.emit(line(runId, text)); // 8-byte chunks: [one two] [three] [four]
    await sink.emit({ type: 'stage.finished', time: time(), runId, stage: 'a', status: 'succeeded', exitCode: 0, attempt: 1, durationMs: 5 });
    await sink.close();
    assert.deepEqual(faults, { failChunkInsertAfterCommit: 0, refuseStageUpdates: 0 }, 'every injected failure happened');

    const log = await storedLog(db.prisma, stageRunId);
    assert.deepEqual(log.lines, ['one', 'two', 'three', 'four'], 'every line exactly once');
    assert.deepEqual(
      log.chunks.map((c) => [c.seq, c.firstLine, c.lineCount]),
      [
        [1, 1, 2],
        [2, 3, 1],
        [3, 4, 1],
      ],
      'contiguous seqs and lines',
    );
    // Written, then published, once each, in order.
    assert.deepEqual(
      publisher.published.map((p) => p.event.type),
      ['stage.started', 'stage.log_chunk', 'stage.log_chunk', 'stage.log_chunk', 'stage.finished'],
    );
    assert.deepEqual(
      publisher.ofType('stage.log_chunk').map((e) => e.seq),
      [1, 2, 3],
    );
    assert.ok(publisher.published.every((p) => p.db.chunkStored !== false));
    assert.equal(publisher.published[0]!.db.stageStatus, 'running');
    assert.equal(publisher.published[4]!.db.stageStatus, 'succeeded');
  });

  test('an outage longer than dbRetryMs is thrown to the orchestrator, naming the limit', async () => {
    const { runId, stageRunIds } = await newRun();
    const sink = new StoreSink({
      prisma: flakyPrisma({ refuseEverything: true }),
      publisher: new RecordingPublisher(db.prisma),
      runId,
      tenantId: seeded.tenantId,
      stageRunIds,
      dbRetryMs: 300,
      logger: silent,
    });
    const before = Date.now();
    await assert.rejects(
      async () => sink.emit(started(runId)),
      /could not mark a stage started: the database was unreachable for .* BUILDIT_DB_RETRY_MS=300.*ECONNREFUSED/s,
    );
    assert.ok(Date.now() - before >= 300);
  });

  test('a chunk seq already stored with other lines (another worker writes this log) is an error, not a silent skip', async () => {
    const { runId, stageRunId, stageRunIds } = await newRun();
    await db.prisma.logChunk.create({ data: { stageRunId, seq: 1, text: 'from another worker\n', firstLine: 1, lineCount: 1, streams: 'o' } });
    const sink = new StoreSink({
      prisma: db.prisma,
      publisher: new RecordingPublisher(db.prisma),
      runId,
      tenantId: seeded.tenantId,
      stageRunIds,
      flushIntervalMs: 60_000,
      logger: silent,
    });
    await sink.emit(started(runId));
    await sink.emit(line(runId, 'mine'));
    await assert.rejects(sink.flush(), /log chunk 1 of stage run .* is already stored with other lines/);
    assert.deepEqual((await storedLog(db.prisma, stageRunId)).lines, ['from another worker']);
  });
});

describe('StageLogCap', () => {
  const l = (text: string, attempt = 1): CappedLine => ({ stream: 'stdout', line: text, attempt });

  test('under the cap every line is stored at once, with no marker', () => {
    const cap = new StageLogCap(1000, 100);
    const stored = ['a', 'b', 'c'].flatMap((text) => cap.push(l(text)));
    assert.deepEqual(
      stored.map((s) => s.line),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(cap.finish(), []);
  });

  test('past the cap: head, marker with the dropped count and size, tail; nothing else', () => {
    const cap = new StageLogCap(100, 30);
    const all = Array.from({ length: 50 }, (_, i) => `l${String(i).padStart(2, '0')}`); // 4 bytes each
    const stored = all.flatMap((text) => cap.push(l(text)));
    const notice = stored.pop()!;
    assert.deepEqual(notice.stream, 'system');
    assert.match(notice.line, /^\[buildit\] the log reached 70 B of its 100 B cap \(BUILDIT_LOG_CAP_BYTES\): further output is held back/);
    const head = stored.map((s) => s.line);
    const end = cap.finish().map((s) => s.line);
    assert.equal(head.length, 17, '70 bytes of head: 17 lines of 4 bytes');
    assert.match(end[0]!, /^\[buildit\] 26 lines \(104 B\) dropped: the log exceeded the 100 B cap/);
    const tail = end.slice(1);
    assert.equal(tail.length, 7, '30 bytes of tail: 7 lines');
    assert.deepEqual([...head, ...tail], [...all.slice(0, 17), ...all.slice(43)]);
    assert.deepEqual(cap.dropped, { lines: 26, bytes: 104 });
  });

  test('a resumed count goes on from the bytes already stored; one huge line is kept whole in the tail', () => {
    const cap = new StageLogCap(100, 30, 95);
    assert.deepEqual(cap.push(l('x'.repeat(500))), [], 'no second notice: the head was full before');
    const end = cap.finish();
    assert.deepEqual(
      end.map((s) => s.line),
      ['x'.repeat(500)],
    );
  });

  test('sizes', () => {
    assert.equal(lineBytes('é'), 3);
    assert.equal(formatBytes(100 * 1024 * 1024), '100 MiB');
    assert.equal(formatBytes(47_815_065), '45.6 MiB');
  });
});
