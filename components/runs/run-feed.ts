// One run followed live over the app's Socket.IO connection (docs/realtime.md), written straight into the
// query cache: status events and the snapshot into the run, log chunks into the stage's LogStore. Nothing is
// fetched again when an event arrives.
//
// Logs: the server sends a socket the chunks after the `after` seq it subscribed with, per stage run, and
// skips live chunks up to it. Logs nobody opened are subscribed with the highest seq (nothing sent: the run
// may have a huge log in another stage). Opening one reads it from the REST API, then subscribes again with
// the last seq read: the catch-up brings what was stored meanwhile, and live chunks follow, in order (a
// chunk ahead of a gap is held by the store). A gap that does not close (a live chunk lost) and the end of
// the run are followed by one more subscription, whose catch-up reads what is missing from the database.
import type { QueryClient } from '@tanstack/react-query';
import type { AppSocket } from '../app/realtime';
import type { ServerRunEvent } from '../../lib/events/server-events';
import { RUN_EVENT, RUN_SNAPSHOT, SUBSCRIBE, UNSUBSCRIBE, type RunSnapshot, type SubscribeAck } from '../../lib/realtime/protocol';
import { LogStore } from '../log';
import { applyRunEvent, applySnapshot, runKey, stageLogKey, type Run } from './run-cache';

/** `after` for logs nobody opened: neither catch-up nor live chunks of theirs are sent. */
const NOTHING = 2 ** 31 - 1;
const GAP_TIMEOUT_MS = 2000;
/** Live lines are shown at most this often: a chatty stage re-renders the log a few times a second, not per chunk. */
const LOG_RENDER_MS = 250;
/** Chunks published just before `run.finished` may still travel: read the rest from the database after this. */
const FINISHED_RESYNC_MS = 500;

export interface StageLog {
  store: LogStore;
  version: number;
}

export class RunFeed {
  /** Logs whose first REST page is being read or was read; the others are not kept. */
  private readonly stores = new Map<string, LogStore>();
  private readonly loaded = new Set<string>();
  private subscribedOnce: Promise<void>;
  private markSubscribed!: () => void;
  private gapTimer: ReturnType<typeof setTimeout> | undefined;
  private subscribing = false;
  private resubscribeWanted = false;
  private readonly changedLogs = new Set<string>();
  private renderTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(
    private readonly queryClient: QueryClient,
    private readonly socket: AppSocket,
    private readonly runId: string,
  ) {
    this.subscribedOnce = new Promise((resolve) => (this.markSubscribed = resolve));
    // Logs read on an earlier visit of this run are still in the cache: the catch-up brings them up to date.
    for (const [key, log] of queryClient.getQueriesData<StageLog>({ queryKey: [...runKey(runId), 'log'] })) {
      if (!log) continue;
      this.stores.set(String(key[3]), log.store);
      this.loaded.add(String(key[3]));
    }
    socket.on(RUN_SNAPSHOT, this.onSnapshot);
    socket.on(RUN_EVENT, this.onEvent);
    socket.on('connect', this.subscribe);
    socket.on('disconnect', this.onDisconnect);
    if (socket.connected) this.subscribe();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.gapTimer);
    clearTimeout(this.renderTimer);
    this.socket.off(RUN_SNAPSHOT, this.onSnapshot);
    this.socket.off(RUN_EVENT, this.onEvent);
    this.socket.off('connect', this.subscribe);
    this.socket.off('disconnect', this.onDisconnect);
    if (this.socket.connected) this.socket.emit(UNSUBSCRIBE, { runId: this.runId }, () => undefined);
  }

  /** Resolves once the run's live events reach this page. */
  subscribed(): Promise<void> {
    return this.subscribedOnce;
  }

  /** The store a stage's log is loaded into (created empty, live chunks held until it is loaded). */
  storeFor(stageRunId: string): LogStore {
    let store = this.stores.get(stageRunId);
    if (!store) this.stores.set(stageRunId, (store = new LogStore()));
    return store;
  }

  /** The REST pages of a log are in: its live chunks are asked for from its last seq on. */
  markLoaded(stageRunId: string): void {
    this.loaded.add(stageRunId);
    this.resubscribe();
  }

  private readonly subscribe = (): void => {
    if (this.closed || this.subscribing) return;
    const run = this.queryClient.getQueryData<Run>(runKey(this.runId));
    const after: Record<string, number> = {};
    for (const stage of run?.stages ?? []) after[stage.id] = this.loaded.has(stage.id) ? this.storeFor(stage.id).lastSeq : NOTHING;
    this.subscribing = true;
    this.socket.emit(SUBSCRIBE, { runId: this.runId, after }, (ack: SubscribeAck) => {
      this.subscribing = false;
      if (ack.ok) this.markSubscribed();
      if (this.resubscribeWanted) this.resubscribe();
    });
  };

  /** Subscribes again (leaving the room first: subscribing twice on one socket is refused). */
  private resubscribe(): void {
    if (this.closed || !this.socket.connected) return;
    if (this.subscribing) {
      this.resubscribeWanted = true;
      return;
    }
    this.resubscribeWanted = false;
    this.subscribing = true;
    this.socket.emit(UNSUBSCRIBE, { runId: this.runId }, () => {
      this.subscribing = false;
      this.subscribe();
    });
  }

  /** Acks of a lost connection never come: the next `connect` subscribes afresh. */
  private readonly onDisconnect = (): void => {
    this.subscribing = false;
    this.resubscribeWanted = false;
  };

  private readonly onSnapshot = (snapshot: RunSnapshot): void => {
    if (snapshot.runId !== this.runId) return;
    this.queryClient.setQueryData<Run>(runKey(this.runId), (run) => (run ? applySnapshot(run, snapshot) : run));
  };

  private readonly onEvent = (event: ServerRunEvent): void => {
    if (event.runId !== this.runId) return;
    if (event.type !== 'stage.log_chunk') {
      this.queryClient.setQueryData<Run>(runKey(this.runId), (run) => (run ? applyRunEvent(run, event) : run));
      if (event.type === 'run.finished') setTimeout(() => this.resubscribe(), FINISHED_RESYNC_MS);
      return;
    }
    const store = this.stores.get(event.stageRunId);
    if (!store) return; // a log nobody opened: read from the REST API when it is
    const added = store.add({ seq: event.seq, firstLine: event.firstLine, lines: event.lines, time: Date.parse(event.time) });
    if (added && this.loaded.has(event.stageRunId)) this.renderLater(event.stageRunId);
    this.watchGaps();
  };

  /** Hands new lines to the page once per LOG_RENDER_MS, whatever the number of chunks meanwhile. */
  private renderLater(stageRunId: string): void {
    this.changedLogs.add(stageRunId);
    this.renderTimer ??= setTimeout(() => {
      this.renderTimer = undefined;
      for (const id of this.changedLogs) {
        const store = this.storeFor(id);
        this.queryClient.setQueryData<StageLog>(stageLogKey(this.runId, id), { store, version: store.version });
      }
      this.changedLogs.clear();
    }, LOG_RENDER_MS);
  }

  private watchGaps(): void {
    if (this.gapTimer !== undefined) return;
    const gapped = () => [...this.loaded].some((id) => this.storeFor(id).hasGap());
    if (!gapped()) return;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = undefined;
      if (gapped()) this.resubscribe();
    }, GAP_TIMEOUT_MS);
  }
}
