/**
 * How a cancel requested through the API (PipelineRun.cancelRequestedAt, lib/runs/transitions.ts) reaches
 * the worker running the run. The request NOTIFYs `buildit_run_cancel` with the run id in its transaction;
 * each worker LISTENs on one dedicated connection, open while it runs something (and for a while after,
 * so back-to-back runs do not reconnect), so a cancel reaches a stage in milliseconds and a running run
 * costs no queries.
 *
 * A notification can be missed: sent before the worker listened, or while its connection was down. So a
 * run is checked in the database once when it starts being watched (after LISTEN is in place), once more
 * every time the listener reconnects, and every `fallbackPollMs` while there is no listener at all.
 */
import type pg from 'pg';
import { queryRows, type SqlPrisma } from '../db/client';
import type { PrismaClient } from '../generated/prisma/client';
import type { Logger } from '../log';
import { JobListener } from '../queue/listen';

export const CANCEL_CHANNEL = 'buildit_run_cancel';

/** Part of the cancel request's transaction: delivered to the listening workers when it commits. */
export async function notifyCancelRequested(tx: SqlPrisma, runId: string): Promise<void> {
  // pg_notify returns void, which Prisma cannot read back: select a constant beside it.
  await tx.$queryRawUnsafe('SELECT 1 AS sent FROM pg_notify($1, $2)', CANCEL_CHANNEL, runId);
}

/** How long the LISTEN session stays open after the last watched run ended. */
const LINGER_MS = 60_000;

export interface CancelRequestsOptions {
  prisma: PrismaClient;
  /** Connection settings for the LISTEN session (e.g. `pool.options`); without them every watch polls. */
  listen?: pg.ClientConfig;
  /** Checks of the watched runs while nobody listens (default 5000 ms). */
  fallbackPollMs?: number;
  log?: Logger;
}

export interface CancelWatch {
  /** Resolves after the first check (a cancel requested before the watch began is seen by then). */
  checked: Promise<void>;
  stop(): void;
}

export class CancelRequests {
  private readonly watchers = new Map<string, () => void>();
  private listener: JobListener | null = null;
  private poller: NodeJS.Timeout | null = null;
  private lingering: NodeJS.Timeout | null = null;

  constructor(private readonly options: CancelRequestsOptions) {}

  /** Calls `onCancel` once when a cancel of the run is requested (or already was). */
  watch(runId: string, onCancel: () => void): CancelWatch {
    let fired = false;
    const fire = () => {
      if (fired) return;
      fired = true;
      onCancel();
    };
    this.watchers.set(runId, fire);
    const checked = this.ensureListening().then(() => this.check([runId]));
    this.updatePolling();
    return {
      checked,
      stop: () => {
        if (this.watchers.get(runId) !== fire) return;
        this.watchers.delete(runId);
        this.updatePolling();
        if (this.watchers.size === 0) this.stopListeningLater();
      },
    };
  }

  private async ensureListening(): Promise<void> {
    if (!this.options.listen) return;
    if (this.lingering) clearTimeout(this.lingering);
    this.lingering = null;
    this.listener ??= new JobListener({
      connection: this.options.listen,
      channel: CANCEL_CHANNEL,
      onNotify: (runId) => this.watchers.get(runId)?.(),
      onReconnect: () => void this.checkAll(),
      ...(this.options.log ? { log: this.options.log } : {}),
    });
    await this.listener.start();
  }

  /** Stops listening and polling (a worker shutting down); watches still open are not called any more. */
  async close(): Promise<void> {
    this.watchers.clear();
    this.updatePolling();
    if (this.lingering) clearTimeout(this.lingering);
    this.lingering = null;
    const listener = this.listener;
    this.listener = null;
    await listener?.stop();
  }

  private stopListeningLater(): void {
    if (!this.listener || this.lingering) return;
    this.lingering = setTimeout(() => {
      this.lingering = null;
      const listener = this.listener;
      this.listener = null;
      void listener?.stop();
    }, LINGER_MS);
    this.lingering.unref();
  }

  /** A timer while runs are watched; it queries only while no LISTEN session is up. */
  private updatePolling(): void {
    if (this.watchers.size > 0 && !this.poller) {
      this.poller = setInterval(() => {
        if (!this.listener?.listening) void this.checkAll();
      }, this.options.fallbackPollMs ?? 5000);
      this.poller.unref();
    } else if (this.watchers.size === 0 && this.poller) {
      clearInterval(this.poller);
      this.poller = null;
    }
  }

  private async checkAll(): Promise<void> {
    await this.check([...this.watchers.keys()]);
  }

  private async check(runIds: string[]): Promise<void> {
    if (runIds.length === 0) return;
    try {
      const rows = await queryRows<{ id: string }>(
        this.options.prisma,
        'SELECT id FROM pipeline_runs WHERE id = ANY($1::text[]) AND cancel_requested_at IS NOT NULL',
        [runIds],
      );
      for (const { id } of rows) this.watchers.get(id)?.();
    } catch (error) {
      this.options.log?.warn({ err: error }, 'could not check for cancel requests');
    }
  }
}
