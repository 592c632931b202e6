/** Reads of stored log chunks (the StoreSink writes them; see log-lines.ts for a chunk's format). */
import { queryRows, type PrismaClient } from '../db/client';
import { OUTPUT_LINE_COUNT_SQL } from './log-lines';

/** Lines of an attempt's own output (stdout/stderr, not BuildIt's system lines) already stored: what a re-attached log skips. */
export async function countStoredOutputLines(prisma: PrismaClient, stageRunId: string, attempt: number): Promise<number> {
  const [row] = await queryRows<{ lines: number }>(
    prisma,
    `SELECT COALESCE(sum(${OUTPUT_LINE_COUNT_SQL}), 0)::int AS lines FROM log_chunks WHERE stage_run_id = $1 AND attempt = $2`,
    [stageRunId, attempt],
  );
  return row?.lines ?? 0;
}
