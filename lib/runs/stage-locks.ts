/**
 * Stage locks on the server (`lock "NAME"` in a stage): at most one stage run of a tenant holds a name at
 * a time, waiters are served in the order they asked. The state is the stage runs' own rows (lock_name,
 * lock_requested_at, lock_held_at), as for concurrency groups (groups.ts), and a row counts only while
 * its run's job holds a live lease (jobs.dedupe_key `run:<id>`): a lock held, or a turn kept, by a dead
 * worker is released when its lease expires, with nothing to clean up. Taking the lock is one
 * transaction under an advisory lock on (tenant, name), so two waiters never both take it.
 */
import { sleepUnlessAborted } from '../async';
import type { HeldLock, LockHolder, LockRequest, StageLocks } from '../engine/orchestrator';
import type { PrismaClient } from '../generated/prisma/client';
import type { Tx } from './create-run';

/** The stage runs of the tenant that hold or wait for the lock, whose run's job has a live lease. */
const LIVE_ROWS = `
  FROM stage_runs s
  JOIN pipeline_runs r ON r.id = s.run_id
  JOIN pipelines p ON p.id = r.pipeline_id
  JOIN jobs j ON j.dedupe_key = 'run:' || s.run_id
  WHERE p.tenant_id = $1 AND s.lock_name = $2 AND s.id <> $3
    AND j.status = 'running' AND j.lease_expires_at > now()
    AND s.status NOT IN ('succeeded', 'failed', 'skipped', 'cancelled')`;

interface Row {
  run_id: string;
  stage_id: string;
  number: number;
}

type Attempt = { held: true } | { held: false; holder: LockHolder | null };

export interface ServerLocksOptions {
  prisma: PrismaClient;
  tenantId: string;
  /** Stage run ids by planned stage id. */
  stageRunIds: ReadonlyMap<string, string>;
  /** Milliseconds between tries while waiting. Default 500. */
  pollMs?: number;
}

export class ServerLocks implements StageLocks {
  constructor(private readonly options: ServerLocksOptions) {}

  async acquire(request: LockRequest, signal: AbortSignal, onWaiting: (holder: LockHolder | null) => Promise<void>): Promise<HeldLock> {
    const id = this.stageRunId(request);
    const { prisma } = this.options;
    // Asking again after a retry or a takeover keeps the place in the queue.
    await prisma.$executeRawUnsafe(
      `UPDATE stage_runs SET lock_name = $2, lock_requested_at = COALESCE(lock_requested_at, now()) WHERE id = $1`,
      id,
      request.lock,
    );
    let reported: string | undefined;
    for (;;) {
      if (signal.aborted) {
        await this.clear(id);
        throw new Error(`stopped while waiting for lock "${request.lock}"`);
      }
      const attempt = await prisma.$transaction((tx) => this.tryTake(tx, id, request.lock, false));
      if (attempt.held) return this.held(id);
      const key = JSON.stringify(attempt.holder);
      if (key !== reported) {
        reported = key;
        await prisma.stageRun.update({ where: { id }, data: { waitingFor: { lock: request.lock, ...(attempt.holder ?? { runId: null }) } } });
        await onWaiting(attempt.holder);
      }
      await sleepUnlessAborted(this.options.pollMs ?? 500, signal);
    }
  }

  /** A resumed stage keeps its lock unless another stage took it after this run's lease expired. */
  async resume(request: LockRequest): Promise<HeldLock | { lost: string }> {
    const id = this.stageRunId(request);
    const attempt = await this.options.prisma.$transaction((tx) => this.tryTake(tx, id, request.lock, true));
    if (attempt.held) return this.held(id);
    await this.clear(id);
    const by = attempt.holder ? ` and stage "${attempt.holder.stage}" of run #${attempt.holder.runNumber} took it` : '';
    return { lost: `lost lock "${request.lock}": the worker running this stage stopped, its lease expired${by}` };
  }

  /**
   * Takes the lock when nobody live holds it and no live stage asked earlier (`resuming`: a stage that
   * was running with it takes it back unless someone holds it now). Otherwise returns the holder.
   */
  private async tryTake(tx: Tx, id: string, lock: string, resuming: boolean): Promise<Attempt> {
    const { tenantId } = this.options;
    await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, `stage-lock/${tenantId}/${lock}`);
    const holders = await tx.$queryRawUnsafe<Row[]>(
      `SELECT s.run_id, s.stage_id, r.number ${LIVE_ROWS} AND s.lock_held_at IS NOT NULL ORDER BY s.lock_held_at LIMIT 1`,
      tenantId,
      lock,
      id,
    );
    if (holders[0]) return { held: false, holder: holderOf(holders[0]) };
    if (!resuming) {
      const earlier = await tx.$queryRawUnsafe<Row[]>(
        `SELECT s.run_id, s.stage_id, r.number ${LIVE_ROWS} AND s.lock_held_at IS NULL
           AND (s.lock_requested_at, s.id) < (SELECT lock_requested_at, id FROM stage_runs WHERE id = $3) LIMIT 1`,
        tenantId,
        lock,
        id,
      );
      if (earlier.length > 0) return { held: false, holder: null };
    }
    await tx.$executeRawUnsafe(
      `UPDATE stage_runs SET lock_name = $2, lock_requested_at = COALESCE(lock_requested_at, now()), lock_held_at = COALESCE(lock_held_at, now()), waiting_for = NULL WHERE id = $1`,
      id,
      lock,
    );
    return { held: true };
  }

  private held(id: string): HeldLock {
    return { release: () => this.clear(id) };
  }

  /** Neither holds nor waits any more (the lock name stays, for the record). */
  private async clear(id: string): Promise<void> {
    await this.options.prisma.$executeRawUnsafe(`UPDATE stage_runs SET lock_requested_at = NULL, lock_held_at = NULL, waiting_for = NULL WHERE id = $1`, id);
  }

  private stageRunId(request: LockRequest): string {
    const id = this.options.stageRunIds.get(request.stageId);
    if (id === undefined) throw new Error(`stage "${request.stageId}" has no stage run`);
    return id;
  }
}

function holderOf(row: Row): LockHolder {
  return { runId: row.run_id, stage: row.stage_id, runNumber: row.number };
}
