/**
 * The `commit_status` job (./queue.ts): reports a run's LATEST status to its forge.
 *
 * One at a time per run: the run's target row is locked (FOR UPDATE) for the whole call, so two jobs of a
 * run never race, and the status last delivered is kept on it. A job whose run has already been reported
 * at the same or a later status (queued < running < finished) sends nothing: a retried older job can never
 * overwrite a newer state, and when several jobs waited for a forge outage, the first one back sends the
 * latest status and the others skip. Runs never wait for this: only commit_status jobs take the lock.
 *
 * A failed call (forge down, 5xx, 4xx such as a bad token, a missing token secret) throws: the queue retries
 * with backoff. A pipeline whose webhook names no token secret reports nothing (the job succeeds).
 * The token is read from the tenant secret when sending and is never logged nor written to the job.
 */
import type pg from 'pg';
import { publicUrlFromEnv } from '../config/env';
import type { PrismaClient } from '../db/client';
import { FORGES, type ForgeName } from '../forges/types';
import { readSecretValues } from '../secrets/store';
import { CommitStatusError, sendCommitStatus, type CommitStatus } from './send';
import { describeStatus, forgeState, isReportedRunStatus, rank, type ReportedRunStatus } from './states';

export type DeliveryOutcome =
  | { outcome: 'sent'; status: ReportedRunStatus; state: string; url: string }
  /** The run was already reported at this or a later status. */
  | { outcome: 'up-to-date'; status: ReportedRunStatus; delivered: string }
  /** The pipeline's webhook names no token secret. */
  | { outcome: 'no-token' }
  /** The run (or its target) no longer exists. */
  | { outcome: 'gone' };

interface TargetRow extends Record<string, unknown> {
  forge: string;
  api_url: string;
  repository: string;
  sha: string;
  context: string;
  delivered_state: string | null;
  status: string;
  number: number;
  tenant_id: string;
  status_token_secret: string | null;
}

/** Taken first, on its own: the statement after it reads the run as it is once the lock is held. */
const LOCK_SQL = 'SELECT 1 FROM run_status_targets WHERE run_id = $1 FOR UPDATE';

// A statement of its own after the lock: one statement that waited for the lock would still see the run as it
// was when that statement began (PostgreSQL re-reads only the locked row), maybe older than a newer job's.
const TARGET_SQL = `
SELECT t.forge, t.api_url, t.repository, t.sha, t.context, t.delivered_state, r.status::text AS status, r.number,
       p.tenant_id, w.status_token_secret
FROM run_status_targets t
JOIN pipeline_runs r ON r.id = t.run_id
JOIN pipelines p ON p.id = r.pipeline_id
LEFT JOIN pipeline_webhooks w ON w.pipeline_id = p.id
WHERE t.run_id = $1`;

/** The run's page, where a forge's status links to. */
export function runPageUrl(runId: string): string {
  return `${publicUrlFromEnv().origin}/runs/${encodeURIComponent(runId)}`;
}

export async function deliverCommitStatus(deps: { pool: pg.Pool; prisma: PrismaClient }, runId: string, signal?: AbortSignal): Promise<DeliveryOutcome> {
  const client = await deps.pool.connect();
  let open = false;
  try {
    await client.query('BEGIN');
    open = true;
    await client.query(LOCK_SQL, [runId]);
    const { rows } = await client.query<TargetRow>(TARGET_SQL, [runId]);
    const row = rows[0];
    const finish = async <T>(outcome: T): Promise<T> => {
      await client.query('COMMIT');
      open = false;
      return outcome;
    };
    if (!row) return await finish({ outcome: 'gone' as const });
    if (!isReportedRunStatus(row.status)) throw new CommitStatusError(`run ${runId} has the unknown status "${row.status}"`);
    if (!(FORGES as readonly string[]).includes(row.forge)) throw new CommitStatusError(`run ${runId} has the unknown forge "${row.forge}"`);
    const status = row.status;
    const delivered = row.delivered_state;
    if (delivered !== null && isReportedRunStatus(delivered) && rank(delivered) >= rank(status)) {
      return await finish({ outcome: 'up-to-date' as const, status, delivered });
    }
    const secretName = row.status_token_secret;
    if (secretName === null) return await finish({ outcome: 'no-token' as const });
    const token = (await readSecretValues(deps.prisma, row.tenant_id, [secretName]))[secretName];
    if (token === undefined) {
      throw new CommitStatusError(`the tenant secret "${secretName}" named as the pipeline's status token does not exist`);
    }
    const forge = row.forge as ForgeName;
    const sent: CommitStatus = {
      forge,
      apiUrl: row.api_url,
      repository: row.repository,
      sha: row.sha,
      state: forgeState(forge, status),
      targetUrl: runPageUrl(runId),
      description: describeStatus(Number(row.number), status),
      context: row.context,
    };
    await sendCommitStatus(sent, token, signal);
    await client.query('UPDATE run_status_targets SET delivered_state = $2, delivered_at = now() WHERE run_id = $1', [runId, status]);
    return await finish({ outcome: 'sent' as const, status, state: sent.state, url: sent.targetUrl });
  } finally {
    if (open) await client.query('ROLLBACK').catch(() => {});
    client.release();
  }
}
