// Add a job. Pass the transaction that makes the job necessary (e.g. the one creating a PipelineRun), so
// the job exists exactly when that change commits. The insert fires the `buildit_jobs` NOTIFY (see the
// init migration), delivered at commit.
import { queryRows, type Queryable } from '../db/client';

export interface EnqueueJob {
  kind: string;
  payload?: unknown;
  /** Not before this time (default: now). */
  runAt?: Date;
  /** Default 5 (the column default). */
  maxAttempts?: number;
  /** At most one job per key ever: enqueueing an existing key returns the existing job, unchanged. */
  dedupeKey?: string;
}

export interface EnqueuedJob {
  id: string;
  /** false when dedupeKey matched an existing job (no new job was created). */
  created: boolean;
}

const ENQUEUE_SQL = `
WITH inserted AS (
  INSERT INTO jobs (kind, payload, run_at, max_attempts, dedupe_key)
  VALUES ($1, $2::jsonb, COALESCE($3::timestamptz, now()), COALESCE($4::int, 5), $5)
  ON CONFLICT (dedupe_key) DO NOTHING
  RETURNING id
)
SELECT id::text, true AS created FROM inserted
UNION ALL
SELECT id::text, false AS created FROM jobs WHERE $5::text IS NOT NULL AND dedupe_key = $5 AND NOT EXISTS (SELECT 1 FROM inserted)`;

// A job with the key committed by another transaction while our INSERT waited on it is invisible to the
// SELECT above (same statement, same snapshot): look it up again in a new statement.
const FIND_BY_DEDUPE_KEY_SQL = 'SELECT id::text FROM jobs WHERE dedupe_key = $1';

export async function enqueueJob(tx: Queryable, job: EnqueueJob): Promise<EnqueuedJob> {
  if (!job.kind) throw new Error('enqueueJob: kind is required');
  if (job.maxAttempts !== undefined && !(Number.isInteger(job.maxAttempts) && job.maxAttempts >= 1)) {
    throw new Error(`enqueueJob: maxAttempts must be a positive integer, got ${job.maxAttempts}`);
  }
  const rows = await queryRows<{ id: string; created: boolean }>(tx, ENQUEUE_SQL, [
    job.kind,
    JSON.stringify(job.payload ?? {}),
    job.runAt ? job.runAt.toISOString() : null,
    job.maxAttempts ?? null,
    job.dedupeKey ?? null,
  ]);
  const row = rows[0];
  if (row) return { id: row.id, created: Boolean(row.created) };
  const [existing] = await queryRows<{ id: string }>(tx, FIND_BY_DEDUPE_KEY_SQL, [job.dedupeKey]);
  if (!existing) throw new Error(`enqueueJob: job with dedupe key ${job.dedupeKey} conflicted but was then deleted; retry`);
  return { id: existing.id, created: false };
}
