/**
 * Following one run over Socket.IO from Node (the CLI; tests): connect with an API token, subscribe with
 * the last seq per stage run, re-subscribe after every reconnect, hand log chunks over in seq order per
 * stage run (each exactly once), and finish when the run has finished and its last chunks are in.
 *
 * Order: the server never sends a chunk twice, but two live chunks may arrive out of order (a large one is
 * fetched from the attachments table by the adapter while a small one overtakes it). Chunks ahead of a gap
 * are held; a gap that does not close within `gapTimeoutMs` is filled by subscribing again (the catch-up
 * reads the database). After `run.finished` the client subscribes once more, so chunks still on their way
 * are read from the database rather than waited for. And after `idleResyncMs` without any event it
 * subscribes again too: events published while a web server's LISTEN connection was down are lost for
 * good, and this bounds how long a follower can stay behind (or miss the end of the run).
 */
import { io, type Socket } from 'socket.io-client';
import type { ServerRunEvent, StageLogChunkEvent } from '../events/server-events';
import {
  FINAL_RUN_STATUSES,
  RUN_EVENT,
  RUN_SNAPSHOT,
  SUBSCRIBE,
  UNSUBSCRIBE,
  type ClientToServerEvents,
  type ErrorBody,
  type RunSnapshot,
  type ServerToClientEvents,
  type SubscribeAck,
} from './protocol';

export type RealtimeClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export class RealtimeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface FollowOptions {
  /** Base URL of the BuildIt server (`http://host:port`). */
  url: string;
  token: string;
  runId: string;
  /** Last chunk seq already seen, per stage run id (default: everything from the start). */
  after?: Record<string, number>;
  onSnapshot?(snapshot: RunSnapshot): void;
  /** Every log chunk, in seq order per stage run, once. */
  onChunk?(chunk: StageLogChunkEvent): void;
  /** Every other run event (status changes), as it arrives. */
  onEvent?(event: Exclude<ServerRunEvent, StageLogChunkEvent>): void;
  /** Connection trouble worth telling a person about (reconnecting...). */
  onNotice?(message: string): void;
  gapTimeoutMs?: number;
  /** Re-subscribe (catch up from the database) after this long without any event (default 30 s). */
  idleResyncMs?: number;
  /** Give up reconnecting after this long without a connection (default 60 s). */
  disconnectedTimeoutMs?: number;
  /** Socket.IO path (default `/socket.io`). */
  path?: string;
}

export interface FollowHandle {
  /** Resolves with the final snapshot once the run has finished and every chunk was handed over. */
  done: Promise<RunSnapshot>;
  /** Last seq handed over per stage run id. */
  lastSeqs(): Record<string, number>;
  close(): void;
  socket: RealtimeClientSocket;
}

export function followRun(options: FollowOptions): FollowHandle {
  const gapTimeoutMs = options.gapTimeoutMs ?? 2000;
  const disconnectedTimeoutMs = options.disconnectedTimeoutMs ?? 60_000;
  const idleResyncMs = options.idleResyncMs ?? 30_000;
  let idleTimer: NodeJS.Timeout | undefined;
  const last = new Map<string, number>(Object.entries(options.after ?? {}));
  const ahead = new Map<string, Map<number, StageLogChunkEvent>>();
  let snapshot: RunSnapshot | null = null;
  let finishedSeen = false;
  let subscribing = false;
  let resubscribeWanted = false;
  let gapTimer: NodeJS.Timeout | undefined;
  let disconnectedTimer: NodeJS.Timeout | undefined;
  let settled = false;

  const socket: RealtimeClientSocket = io(options.url, {
    auth: { token: options.token },
    path: options.path ?? '/socket.io',
    transports: ['websocket'],
    reconnectionDelay: 200,
    reconnectionDelayMax: 2000,
  });

  let resolveDone!: (snapshot: RunSnapshot) => void;
  let rejectDone!: (error: Error) => void;
  const done = new Promise<RunSnapshot>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  // close() rejects `done`; a caller that never awaits it must not get an unhandled rejection.
  done.catch(() => {});

  const finish = (error: Error | null) => {
    if (settled) return;
    settled = true;
    clearTimeout(gapTimer);
    clearTimeout(disconnectedTimer);
    clearTimeout(idleTimer);
    socket.close();
    if (error) rejectDone(error);
    else resolveDone(snapshot!);
  };

  const deliver = (chunk: StageLogChunkEvent) => {
    const have = last.get(chunk.stageRunId) ?? 0;
    if (chunk.seq <= have) return;
    if (chunk.seq > have + 1) {
      let held = ahead.get(chunk.stageRunId);
      if (!held) ahead.set(chunk.stageRunId, (held = new Map()));
      held.set(chunk.seq, chunk);
      gapTimer ??= setTimeout(() => {
        gapTimer = undefined;
        resubscribe();
      }, gapTimeoutMs);
      return;
    }
    options.onChunk?.(chunk);
    last.set(chunk.stageRunId, chunk.seq);
    const held = ahead.get(chunk.stageRunId);
    const next = held?.get(chunk.seq + 1);
    if (held && next) {
      held.delete(next.seq);
      deliver(next);
    }
    if ([...ahead.values()].every((map) => map.size === 0)) {
      clearTimeout(gapTimer);
      gapTimer = undefined;
    }
  };

  const isFinished = (s: RunSnapshot | null) => s !== null && FINAL_RUN_STATUSES.includes(s.status);

  const subscribe = () => {
    if (settled) return;
    if (subscribing) {
      resubscribeWanted = true;
      return;
    }
    subscribing = true;
    const after = Object.fromEntries(last);
    socket.emit(SUBSCRIBE, { runId: options.runId, after }, (ack: SubscribeAck) => {
      subscribing = false;
      if (!ack.ok) {
        finish(new RealtimeError(ack.error.code, ack.error.message));
        return;
      }
      if (resubscribeWanted) {
        resubscribeWanted = false;
        resubscribe();
        return;
      }
      // The snapshot was read before the catch-up: a finished run has stored every chunk by then.
      if (isFinished(snapshot) && [...ahead.values()].every((map) => map.size === 0)) finish(null);
    });
  };

  const resubscribe = () => {
    if (settled || !socket.connected) return;
    if (subscribing) {
      resubscribeWanted = true;
      return;
    }
    socket.emit(UNSUBSCRIBE, { runId: options.runId }, () => subscribe());
  };

  socket.on('connect', () => {
    clearTimeout(disconnectedTimer);
    disconnectedTimer = undefined;
    subscribing = false;
    subscribe();
  });
  socket.on('disconnect', (reason) => {
    if (settled) return;
    options.onNotice?.(`connection lost (${reason}); reconnecting`);
    if (reason === 'io server disconnect') socket.connect();
    disconnectedTimer ??= setTimeout(
      () => finish(new RealtimeError('disconnected', `no connection to ${options.url} for ${disconnectedTimeoutMs / 1000} s`)),
      disconnectedTimeoutMs,
    );
  });
  socket.on('connect_error', (error: Error & { data?: ErrorBody }) => {
    // A refused handshake (bad token) is final; a network error is retried by socket.io-client.
    if (error.data?.code === 'unauthorized') finish(new RealtimeError('unauthorized', error.data.message));
    else if (socket.active) {
      disconnectedTimer ??= setTimeout(
        () => finish(new RealtimeError('unreachable', `cannot connect to ${options.url}: ${error.message}`)),
        disconnectedTimeoutMs,
      );
    } else finish(new RealtimeError(error.data?.code ?? 'connect_error', error.data?.message ?? error.message));
  });
  const resetIdle = () => {
    clearTimeout(idleTimer);
    if (settled) return;
    idleTimer = setTimeout(() => {
      resubscribe();
      resetIdle();
    }, idleResyncMs);
  };

  socket.on(RUN_SNAPSHOT, (received) => {
    resetIdle();
    snapshot = received;
    options.onSnapshot?.(received);
  });
  socket.on(RUN_EVENT, (event) => {
    resetIdle();
    if (event.type === 'stage.log_chunk') {
      deliver(event);
      return;
    }
    options.onEvent?.(event);
    if (event.type === 'run.finished' && !finishedSeen) {
      finishedSeen = true;
      // Chunks published before run.finished may still be on their way: read the rest from the database.
      resubscribe();
    }
  });

  return {
    done,
    socket,
    lastSeqs: () => Object.fromEntries(last),
    close: () => finish(new RealtimeError('closed', 'closed')),
  };
}
