/**
 * Commit status jobs (docs/webhooks.md, "Commit status"). A run started by a forge has a row in
 * run_status_targets; each change of its status enqueues one `commit_status` job per (run, status) (dedupe
 * key `commit_status:<runId>:<status>`), in the transaction that changes the status. The job sends the run's
 * LATEST status, so a retried older job never overwrites a newer state (see ./deliver.ts).
 *
 * Ordering with the webhook, which adds the target in a transaction of its own right after the run is
 * created (lib/api/services/webhooks.ts): it locks the run row (FOR SHARE) before inserting the target,
 * and every status change UPDATEs that row before it looks for a target. So either the change commits
 * first (then the webhook's own job, enqueued after, reads the new status) or it waits for the webhook's
 * commit and then sees the target: no status is missed.
 */
import { queryRows, type PrismaClient, type Queryable } from '../db/client';
import type { StatusTarget } from '../forges/types';
import { enqueueJob, type EnqueuedJob } from '../queue/enqueue';

export const COMMIT_STATUS_JOB = 'commit_status';
/** With the queue's backoff (2 s, 4 s, ... capped at 5 min) the forge may be away for about 40 minutes. */
export const COMMIT_STATUS_MAX_ATTEMPTS = 15;

/** The job's payload: the run, and its status when the job was made (for people reading the jobs table). */
export interface CommitStatusPayload {
  runId: string;
  status: string;
}

/**
 * In the transaction that changed the run's status (after the UPDATE): a commit_status job for the status,
 * when the run has a status target; null (nothing) otherwise.
 */
export async function enqueueCommitStatus(tx: Queryable, runId: string): Promise<EnqueuedJob | null> {
  const [row] = await queryRows<{ status: string }>(
    tx,
    'SELECT r.status::text AS status FROM run_status_targets t JOIN pipeline_runs r ON r.id = t.run_id WHERE t.run_id = $1',
    [runId],
  );
  if (!row) return null;
  const payload: CommitStatusPayload = { runId, status: row.status };
  return enqueueJob(tx, {
    kind: COMMIT_STATUS_JOB,
    payload,
    dedupeKey: `${COMMIT_STATUS_JOB}:${runId}:${row.status}`,
    maxAttempts: COMMIT_STATUS_MAX_ATTEMPTS,
  });
}

/**
 * Where the run of a forge delivery reports its status: stored for the run (once; a redelivery changes
 * nothing) with the first job, for the run's current status. See the ordering note above.
 */
export async function attachStatusTarget(prisma: PrismaClient, runId: string, target: StatusTarget & { sha: string; context: string }): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const [run] = await queryRows<{ id: string }>(tx, 'SELECT id FROM pipeline_runs WHERE id = $1 FOR SHARE', [runId]);
    if (!run) return;
    await tx.$executeRawUnsafe(
      `INSERT INTO run_status_targets (run_id, forge, api_url, repository, sha, context) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (run_id) DO NOTHING`,
      runId,
      target.forge,
      target.apiUrl,
      target.repository,
      target.sha,
      target.context,
    );
    await enqueueCommitStatus(tx, runId);
  });
}
