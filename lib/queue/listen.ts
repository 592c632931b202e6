// LISTEN buildit_jobs on a dedicated connection, so an idle worker starts a new job within milliseconds.
// (Other channels use the same listener: lib/runs/cancel-requests.ts listens for run cancels.)
//
// The insert and requeue triggers (prisma/migrations) NOTIFY `buildit_jobs` with the job kind. LISTEN needs
// a session of its own that stays open: a pooled connection would be handed to other queries and returned
// to the pool, losing the subscription. When that connection drops (PostgreSQL restarted, network cut), the
// listener reconnects with exponential backoff (100 ms doubling to 5 s, jittered) and, once listening
// again, reports `reconnected`: notifications sent while it was away are lost, so the runner claims
// straight away. Polling (in the runner) remains the fallback for anything else that slips through.
import pg from 'pg';
import type { Logger } from '../log';

export const JOBS_CHANNEL = 'buildit_jobs';

export interface JobListenerOptions {
  /** Connection settings of the dedicated client (e.g. `pool.options`, or { connectionString }). */
  connection: pg.ClientConfig;
  /** Default JOBS_CHANNEL. */
  channel?: string;
  /** A notification's payload (on JOBS_CHANNEL: a job of this kind was inserted or requeued), delivered at commit. */
  onNotify: (payload: string) => void;
  /** Listening again after the connection was lost: notifications may have been missed. */
  onReconnect?: () => void;
  log?: Logger;
  /** Reconnect backoff bounds (default 100 ms → 5 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class JobListener {
  private client: pg.Client | null = null;
  private stopped = false;
  private connectedOnce = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private connecting: Promise<void> | null = null;
  /** Connection attempts that failed or connections that dropped (for tests and logs). */
  connectionLosses = 0;

  constructor(private readonly options: JobListenerOptions) {}

  get listening(): boolean {
    return this.client !== null;
  }

  /**
   * Connects and LISTENs. Resolves after the first attempt, whether it worked or not: when the database
   * is down it keeps retrying in the background (the runner polls in the meantime).
   */
  start(): Promise<void> {
    this.stopped = false;
    this.connecting ??= this.connect().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.connecting?.catch(() => {});
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const channel = this.options.channel ?? JOBS_CHANNEL;
    const client = new pg.Client({ ...this.options.connection, application_name: `buildit-listen-${channel}` });
    let dropped = false;
    const onLost = (err?: Error) => {
      if (dropped) return;
      dropped = true;
      client.removeAllListeners('notification');
      // `end` also follows our own stop(): only a loss while running is worth a reconnect.
      if (this.client === client) this.client = null;
      client.end().catch(() => {});
      if (this.stopped) return;
      this.connectionLosses++;
      this.options.log?.warn({ err: err?.message }, 'job listener connection lost; reconnecting');
      this.scheduleReconnect();
    };
    // Without an error listener, a dropped connection would crash the process.
    client.on('error', (err) => onLost(err));
    client.on('end', () => onLost());
    client.on('notification', (msg) => {
      if (msg.channel === channel) this.options.onNotify(msg.payload ?? '');
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${channel}`);
    } catch (err) {
      onLost(err as Error);
      return;
    }
    if (this.stopped || dropped) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.failures = 0;
    if (this.connectedOnce) {
      this.options.log?.info('job listener reconnected');
      this.options.onReconnect?.();
    }
    this.connectedOnce = true;
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    const min = this.options.minBackoffMs ?? 100;
    const max = this.options.maxBackoffMs ?? 5_000;
    const delay = Math.min(max, min * 2 ** this.failures) * (0.75 + Math.random() * 0.5);
    this.failures++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.stopped) return;
      this.connecting ??= this.connect().finally(() => {
        this.connecting = null;
      });
    }, delay);
  }
}
