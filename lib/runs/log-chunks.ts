/**
 * The log_chunks table, read and written here only: the StoreSink writes chunks, the worker reads
 * where a log stands when it takes a run over, the API and the Socket.IO catch-up read pages of it.
 * See log-lines.ts for a chunk's format. Plain SQL: these are the hot paths of a long log.
 */
import { queryRows, type Queryable } from '../db/client';
import { OUTPUT_LINE_COUNT_SQL } from './log-lines';

export interface LogChunkRow {
  stageRunId: string;
  seq: number;
  text: string;
  firstLine: number;
  lineCount: number;
  streams: string;
  attempt: number;
}

export interface StoredChunk {
  seq: number;
  text: string;
  firstLine: number;
  streams: string;
  createdAt: Date;
}

/** Where a stage run's stored log stands (a recovering worker continues from it). */
export interface StoredLogPosition {
  /** Chunks stored so far (the next chunk is `chunks + 1`). */
  chunks: number;
  /** Lines stored so far (the next line number is `lines + 1`). */
  lines: number;
  /** Bytes of `text` stored so far (counted against the cap). */
  bytes: number;
}

/** Inserts a chunk unless one with its seq is stored already; returns its time, or null when it was there. */
export async function insertLogChunk(db: Queryable, chunk: LogChunkRow): Promise<Date | null> {
  const [inserted] = await queryRows<{ created_at: Date }>(
    db,
    `INSERT INTO log_chunks (stage_run_id, seq, text, first_line, line_count, streams, attempt)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (stage_run_id, seq) DO NOTHING
     RETURNING created_at`,
    [chunk.stageRunId, chunk.seq, chunk.text, chunk.firstLine, chunk.lineCount, chunk.streams, chunk.attempt],
  );
  return inserted ? new Date(inserted.created_at) : null;
}

/** One stored chunk, or null. */
export async function readLogChunk(db: Queryable, stageRunId: string, seq: number): Promise<(LogChunkRow & { createdAt: Date }) | null> {
  const [row] = await queryRows<{ text: string; first_line: number; line_count: number; streams: string; attempt: number; created_at: Date }>(
    db,
    'SELECT text, first_line, line_count, streams, attempt, created_at FROM log_chunks WHERE stage_run_id = $1 AND seq = $2',
    [stageRunId, seq],
  );
  if (!row) return null;
  return {
    stageRunId,
    seq,
    text: row.text,
    firstLine: Number(row.first_line),
    lineCount: Number(row.line_count),
    streams: row.streams,
    attempt: Number(row.attempt),
    createdAt: new Date(row.created_at),
  };
}

/** The chunks of one stage run with seq > `after`, oldest first, at most `limit`. */
export async function readChunkPage(db: Queryable, stageRunId: string, after: number, limit: number): Promise<StoredChunk[]> {
  const rows = await queryRows<{ seq: number; text: string; first_line: number; streams: string; created_at: Date }>(
    db,
    `SELECT seq, text, first_line, streams, created_at FROM log_chunks
      WHERE stage_run_id = $1 AND seq > $2
      ORDER BY seq
      LIMIT $3`,
    [stageRunId, after, limit],
  );
  return rows.map((row) => ({
    seq: Number(row.seq),
    text: row.text,
    firstLine: Number(row.first_line),
    streams: row.streams,
    createdAt: new Date(row.created_at),
  }));
}

/** The last chunk seq of each stage run of a run that has any. */
export async function lastChunkSeqs(db: Queryable, runId: string): Promise<Map<string, number>> {
  const rows = await queryRows<{ stage_run_id: string; last_seq: number }>(
    db,
    `SELECT c.stage_run_id, max(c.seq)::int AS last_seq
       FROM log_chunks c JOIN stage_runs s ON s.id = c.stage_run_id
      WHERE s.run_id = $1
      GROUP BY c.stage_run_id`,
    [runId],
  );
  return new Map(rows.map((row) => [row.stage_run_id, Number(row.last_seq)]));
}

/** Where each stage run's stored log stands (for a recovering worker). */
export async function readStoredLogPositions(db: Queryable, runId: string): Promise<Map<string, StoredLogPosition>> {
  const rows = await queryRows<{ stage_run_id: string; chunks: number; lines: number; bytes: string }>(
    db,
    `SELECT c.stage_run_id, count(*)::int AS chunks, COALESCE(sum(c.line_count), 0)::int AS lines,
            COALESCE(sum(octet_length(c.text)), 0)::text AS bytes
       FROM log_chunks c JOIN stage_runs s ON s.id = c.stage_run_id
      WHERE s.run_id = $1
      GROUP BY c.stage_run_id`,
    [runId],
  );
  return new Map(rows.map((r) => [r.stage_run_id, { chunks: r.chunks, lines: r.lines, bytes: Number(r.bytes) }]));
}

/** Lines of an attempt's own output (stdout/stderr, not BuildIt's system lines) already stored: what a re-attached log skips. */
export async function countStoredOutputLines(db: Queryable, stageRunId: string, attempt: number): Promise<number> {
  const [row] = await queryRows<{ lines: number }>(
    db,
    `SELECT COALESCE(sum(${OUTPUT_LINE_COUNT_SQL}), 0)::int AS lines FROM log_chunks WHERE stage_run_id = $1 AND attempt = $2`,
    [stageRunId, attempt],
  );
  return row?.lines ?? 0;
}
