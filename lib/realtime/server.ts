/**
 * Socket.IO on the web server's HTTP server: live run events for the web UI and `buildit runs logs --follow`.
 * Protocol: docs/realtime.md (types in ./protocol.ts).
 *
 * - Several web replicas share rooms through `@socket.io/postgres-adapter` (LISTEN/NOTIFY on the same
 *   PostgreSQL); workers send run events to every replica with `@socket.io/postgres-emitter` (./publisher.ts).
 * - The handshake carries an API token (`auth: { token }`) or a browser's session cookie; a socket only joins `run:{id}` / `tenant:{id}`
 *   after `authorize(actor, 'run.read', ...)`; unknown and forbidden ids get the same `not_found`.
 * - Catch-up without gap or duplicate: on `subscribe` the socket joins the run room and, in the same tick,
 *   gets a Subscription that holds every live event of the run arriving for it; then the snapshot and the
 *   stored chunks after the client's `after` are read and sent, then the held events are flushed. A chunk
 *   is never sent twice to a socket: every chunk that reaches it passes through its Subscription, which
 *   remembers the (stageRunId, seq) pairs sent. That also covers a chunk that was already read from the
 *   database while its live event was still on its way (worker: INSERT, then NOTIFY).
 *
 * Live events pass through the Subscription because workers do not broadcast into the rooms (a broadcast
 * from another process reaches the sockets with no per-socket say, short of patching the adapter's protected
 * `onMessage`): they send each event to every web server as a server-side emit, and each server delivers it
 * to its own sockets in the rooms (`io.local`), except those that must not get it directly: held during the
 * catch-up, or a duplicate. Both are Socket.IO's public API.
 */
import { randomUUID } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/postgres-adapter';
import type pg from 'pg';
import { Server, type Socket } from 'socket.io';
import { z } from 'zod';
import { authenticateToken } from '../auth/authenticate';
import { crossSiteProblem } from '../auth/cross-site';
import { sessionIdFromCookies } from '../auth/session-cookie';
import { sessionActor } from '../auth/sessions';
import type { Actor } from '../auth/authorize';
import { AuthError } from '../auth/errors';
import type { ServerRunEvent } from '../events/server-events';
import type { PrismaClient } from '../generated/prisma/client';
import type { Logger } from '../log';
import { ATTACHMENTS_TABLE, ensureAttachmentsTable } from './attachments';
import { createPostgresEmitter } from './emitter';
import { canReadTenantRuns, findReadableRun, readChunksAfter, readRunSnapshot, CATCH_UP_PAGE } from './catch-up';
import {
  RELAY_RUN_EVENT,
  RELAY_STACK_RUN_EVENT,
  STACK_RUN_EVENT,
  RUN_EVENT,
  RUN_SNAPSHOT,
  SUBSCRIBE,
  SUBSCRIBE_TENANT,
  UNSUBSCRIBE,
  isLogChunk,
  isStatusEvent,
  runRoom,
  tenantRoom,
  type ClientToServerEvents,
  type ErrorBody,
  type RealtimeErrorCode,
  type ServerSideEvents,
  type ServerToClientEvents,
  type SubscribeAck,
} from './protocol';

export interface RealtimeOptions {
  pool: pg.Pool;
  prisma: PrismaClient;
  log: Logger;
  /** Socket.IO path (default `/socket.io`). */
  path?: string;
  /**
   * How often a connected socket's token is checked again (default 5 min): a revoked or expired token, or
   * a user removed from the organization, loses its live connection within this time.
   */
  reauthenticateMs?: number;
  /** Test hooks: awaited at the points of a catch-up where races happen. */
  hooks?: CatchUpHooks;
}

export interface CatchUpHooks {
  /** After the socket joined the room and its events are held, before the database is read. */
  afterJoin?(runId: string): Promise<void>;
  /** After the database was read and the catch-up sent, before the held events are flushed. */
  afterRead?(runId: string): Promise<void>;
}

export interface Realtime {
  io: RealtimeServer;
  /** Closes client connections and the adapter (not the HTTP server, which belongs to the caller). */
  close(): Promise<void>;
}

interface SocketData {
  actor: Actor;
}

/** The server-side emit that waitUntilListening sends to itself. */
const PROBE_EVENT = 'buildit:realtime-probe';
interface ServerEvents extends ServerSideEvents {
  [PROBE_EVENT]: (nonce: string) => void;
}

type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents, ServerEvents, SocketData>;
type RealtimeSocket = Socket<ClientToServerEvents, ServerToClientEvents, ServerEvents, SocketData>;

/** How long attachRealtime waits for the adapter's LISTEN connection before giving up. */
const READY_TIMEOUT_MS = 15_000;

const SubscribeRequest = z.object({
  runId: z.string().min(1).max(100),
  after: z
    .record(
      z.string().min(1).max(100),
      z
        .number()
        .int()
        .min(0)
        .max(2 ** 31 - 1),
    )
    .optional(),
});
const TenantRequest = z.object({ tenantId: z.string().min(1).max(100) });
const UnsubscribeRequest = z.object({ runId: z.string().min(1).max(100).optional(), tenantId: z.string().min(1).max(100).optional() });

/** Chunks sent to one socket for one stage run: every seq up to `upTo`, plus the ones in `above`. */
class SentChunks {
  private upTo: number;
  private readonly above = new Set<number>();
  constructor(upTo: number) {
    this.upTo = upTo;
  }
  has(seq: number): boolean {
    return seq <= this.upTo || this.above.has(seq);
  }
  add(seq: number): void {
    if (seq <= this.upTo) return;
    this.above.add(seq);
    while (this.above.delete(this.upTo + 1)) this.upTo += 1;
  }
}

/** One socket following one run. */
class Subscription {
  /** Live events held while the catch-up runs (null once live). */
  held: ServerRunEvent[] | null = [];
  private readonly sent = new Map<string, SentChunks>();
  constructor(
    readonly socket: RealtimeSocket,
    readonly runId: string,
    after: Record<string, number>,
  ) {
    for (const [stageRunId, seq] of Object.entries(after)) this.sent.set(stageRunId, new SentChunks(seq));
  }
  /** Whether the chunk was not sent yet; marks it sent. */
  claim(stageRunId: string, seq: number): boolean {
    let sent = this.sent.get(stageRunId);
    if (!sent) {
      sent = new SentChunks(0);
      this.sent.set(stageRunId, sent);
    }
    if (sent.has(seq)) return false;
    sent.add(seq);
    return true;
  }
}

class ErrorReply extends Error {
  constructor(
    readonly code: RealtimeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The handshake's API token (`auth: { token }`, the CLI), else the session cookie of a signed-in browser.
 * A browser opening a socket from another site sends its Origin: refused, as cookie writes are (CSRF).
 */
async function authenticateHandshake(prisma: PrismaClient, handshake: Socket['handshake']): Promise<Actor> {
  const token: unknown = (handshake.auth as Record<string, unknown> | undefined)?.token;
  if (typeof token === 'string' && token !== '') return authenticateToken(prisma, token);
  const sessionId = await sessionIdFromCookies(handshake.headers.cookie);
  if (sessionId === null) throw new AuthError('unauthenticated', 'authentication required: sign in, or connect with `auth: { token: <API token> }`');
  if (sessionId === 'invalid') throw new AuthError('invalid_token', 'the session cookie is not valid: sign in again');
  if (handshake.headers.origin !== undefined) {
    const headers = new Headers({ origin: handshake.headers.origin, host: handshake.headers.host ?? '' });
    const crossSite = crossSiteProblem('POST', headers);
    if (crossSite !== null) throw new AuthError('cross_site', crossSite);
  }
  return sessionActor(prisma, sessionId);
}

const notFound = (what: string) => new ErrorReply('not_found', `${what} not found`);

export async function attachRealtime(httpServer: HttpServer, options: RealtimeOptions): Promise<Realtime> {
  const { pool, prisma, log, hooks = {} } = options;
  await ensureAttachmentsTable(pool);

  const io: RealtimeServer = new Server(httpServer, {
    path: options.path ?? '/socket.io',
    // Same origin as the pages; API-token clients (the CLI) are not browsers.
    serveClient: false,
    adapter: createAdapter(pool, {
      tableName: ATTACHMENTS_TABLE,
      errorHandler: (error: Error) => log.warn({ err: error }, 'realtime: Postgres adapter error'),
    }),
  });

  // runId → subscriptions of sockets connected to THIS server.
  const subscriptions = new Map<string, Set<Subscription>>();
  const addSubscription = (subscription: Subscription) => {
    let set = subscriptions.get(subscription.runId);
    if (!set) subscriptions.set(subscription.runId, (set = new Set()));
    set.add(subscription);
  };
  const removeSubscription = (subscription: Subscription) => {
    const set = subscriptions.get(subscription.runId);
    set?.delete(subscription);
    if (set?.size === 0) subscriptions.delete(subscription.runId);
  };
  const findSubscription = (socket: RealtimeSocket, runId: string) => [...(subscriptions.get(runId) ?? [])].find((s) => s.socket === socket);

  /**
   * Delivers a run event from a worker to this server's sockets in the run's room (and, for a status event,
   * the tenant's: a socket in both gets it once). A subscriber still catching up gets it later from its
   * Subscription; a log chunk it already has is not sent again.
   */
  const deliver = (tenantId: string, event: ServerRunEvent) => {
    const rooms = isStatusEvent(event) ? [runRoom(event.runId), tenantRoom(tenantId)] : [runRoom(event.runId)];
    const notNow: string[] = [];
    for (const subscription of subscriptions.get(event.runId) ?? []) {
      if (subscription.held) {
        subscription.held.push(event);
        notNow.push(subscription.socket.id);
      } else if (isLogChunk(event) && !subscription.claim(event.stageRunId, event.seq)) {
        notNow.push(subscription.socket.id);
      }
    }
    // A socket id is also the name of a room holding just that socket.
    io.local.to(rooms).except(notNow).emit(RUN_EVENT, event);
  };
  // Stack runs: the tenant's room only (subscribe_tenant), no catch-up (readers re-read the REST API).
  io.of('/').on(RELAY_STACK_RUN_EVENT, (tenantId, event) => io.local.to(tenantRoom(tenantId)).emit(STACK_RUN_EVENT, event));
  io.of('/').on(RELAY_RUN_EVENT, (tenantId, event) => {
    try {
      deliver(tenantId, event);
    } catch (error) {
      log.error({ err: error }, 'realtime: delivering a run event failed');
    }
  });

  io.use((socket, next) => {
    authenticateHandshake(prisma, socket.handshake).then(
      (actor) => {
        socket.data.actor = actor;
        next();
      },
      (error: unknown) => {
        if (error instanceof AuthError) {
          const refusal = new Error('unauthorized') as Error & { data: ErrorBody };
          refusal.data = { code: 'unauthorized', message: error.message };
          next(refusal);
        } else {
          log.error({ err: error }, 'realtime: authentication failed');
          const failure = new Error('internal') as Error & { data: ErrorBody };
          failure.data = { code: 'internal', message: 'the server could not check the credentials; try again' };
          next(failure);
        }
      },
    );
  });

  const replyError = (error: unknown, ack: (response: { ok: false; error: ErrorBody }) => void, what: string) => {
    if (error instanceof ErrorReply) {
      ack({ ok: false, error: { code: error.code, message: error.message } });
      return;
    }
    log.error({ err: error }, `realtime: ${what} failed`);
    ack({ ok: false, error: { code: 'internal', message: `${what} failed on the server; try again` } });
  };

  async function subscribe(socket: RealtimeSocket, raw: unknown, ack: (response: SubscribeAck) => void): Promise<void> {
    const parsed = SubscribeRequest.safeParse(raw);
    if (!parsed.success) throw new ErrorReply('bad_request', 'expected { runId: string, after?: { [stageRunId]: lastSeq } }');
    const { runId, after = {} } = parsed.data;
    if (findSubscription(socket, runId)) throw new ErrorReply('bad_request', 'already subscribed to this run: unsubscribe first');
    const run = await findReadableRun(prisma, socket.data.actor, runId);
    if (!run || !socket.connected) throw notFound('run');

    // Join and start holding in the same tick: from here on every live event of the run for this socket
    // is either held (until the flush below) or checked against what was sent.
    const subscription = new Subscription(socket, runId, after);
    addSubscription(subscription);
    socket.join(runRoom(runId));
    try {
      await hooks.afterJoin?.(runId);
      const snapshot = await readRunSnapshot(prisma, pool, runId);
      if (!snapshot) throw notFound('run');
      socket.emit(RUN_SNAPSHOT, snapshot);
      const caughtUp: Record<string, number> = {};
      let sent = 0;
      for (const stage of snapshot.stages) {
        let last = after[stage.id] ?? 0;
        for (;;) {
          const chunks = await readChunksAfter(pool, { runId, stageRunId: stage.id, stage: stage.stage }, last);
          for (const chunk of chunks) {
            if (subscription.claim(chunk.stageRunId, chunk.seq)) {
              socket.emit(RUN_EVENT, chunk);
              sent += 1;
            }
            last = chunk.seq;
          }
          if (chunks.length < CATCH_UP_PAGE) break;
        }
        caughtUp[stage.id] = last;
      }
      await hooks.afterRead?.(runId);
      // From here to the end: no await, so no live event can slip between the flush and going live.
      ack({ ok: true, sent, caughtUp });
      const held = subscription.held ?? [];
      subscription.held = null;
      for (const event of held) {
        if (isLogChunk(event) && !subscription.claim(event.stageRunId, event.seq)) continue;
        socket.emit(RUN_EVENT, event);
      }
    } catch (error) {
      removeSubscription(subscription);
      socket.leave(runRoom(runId));
      throw error;
    }
  }

  const reauthenticateMs = options.reauthenticateMs ?? 5 * 60_000;

  io.on('connection', (socket) => {
    const recheck = setInterval(() => {
      authenticateHandshake(prisma, socket.handshake).then(
        (actor) => {
          // New roles apply to later joins; rooms already joined stay until the client leaves or reconnects.
          socket.data.actor = actor;
        },
        (error: unknown) => {
          if (!(error instanceof AuthError)) return; // database trouble: try again next time
          log.info({ socketId: socket.id }, 'realtime: credentials no longer valid, disconnecting');
          socket.disconnect(true);
        },
      );
    }, reauthenticateMs);
    recheck.unref();
    socket.on('disconnect', () => clearInterval(recheck));

    socket.on(SUBSCRIBE, (raw, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      subscribe(socket, raw, reply).catch((error: unknown) => replyError(error, reply, 'subscribe'));
    });

    socket.on(SUBSCRIBE_TENANT, (raw, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      (async () => {
        const parsed = TenantRequest.safeParse(raw);
        if (!parsed.success) throw new ErrorReply('bad_request', 'expected { tenantId: string }');
        if (!(await canReadTenantRuns(prisma, socket.data.actor, parsed.data.tenantId))) throw notFound('tenant');
        socket.join(tenantRoom(parsed.data.tenantId));
        reply({ ok: true });
      })().catch((error: unknown) => replyError(error, reply, 'subscribe_tenant'));
    });

    socket.on(UNSUBSCRIBE, (raw, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      const parsed = UnsubscribeRequest.safeParse(raw);
      if (!parsed.success || (!parsed.data.runId && !parsed.data.tenantId)) {
        reply({ ok: false, error: { code: 'bad_request', message: 'expected { runId } or { tenantId }' } });
        return;
      }
      if (parsed.data.runId) {
        const subscription = findSubscription(socket, parsed.data.runId);
        if (subscription) removeSubscription(subscription);
        socket.leave(runRoom(parsed.data.runId));
      }
      if (parsed.data.tenantId) socket.leave(tenantRoom(parsed.data.tenantId));
      reply({ ok: true });
    });

    socket.on('disconnect', () => {
      for (const set of subscriptions.values()) {
        for (const subscription of set) if (subscription.socket === socket) removeSubscription(subscription);
      }
    });
  });

  await waitUntilListening(io, pool);
  log.info('realtime: Socket.IO ready (Postgres adapter)');

  let closed: Promise<void> | null = null;
  return {
    io,
    close() {
      closed ??= (async () => {
        // Closing the engine drops every connection as a transport close: clients reconnect (to this
        // server once restarted, or to another replica) and subscribe again with their last seqs.
        io.engine.close();
        await io.of('/').adapter.close();
        subscriptions.clear();
      })();
      return closed;
    },
  };
}

/**
 * The adapter LISTENs on a pooled connection it opens asynchronously; until then, events published by
 * workers would be missed. Send probes through an emitter (the workers' path) until one comes back.
 */
async function waitUntilListening(io: RealtimeServer, pool: pg.Pool): Promise<void> {
  const nonce = randomUUID();
  const emitter = createPostgresEmitter(pool);
  const nsp = io.of('/');
  let listener: ((value: string) => void) | undefined;
  const received = new Promise<void>((resolve) => {
    listener = (value) => {
      if (value === nonce) resolve();
    };
    nsp.on(PROBE_EVENT, listener);
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    await Promise.race([
      received,
      new Promise<never>((_, reject) => {
        const probe = () => {
          if (Date.now() > deadline) {
            reject(new Error(`realtime: the Socket.IO Postgres adapter did not start listening within ${READY_TIMEOUT_MS / 1000} s`));
            return;
          }
          emitter.serverSideEmit(PROBE_EVENT, nonce).catch(() => {});
          timer = setTimeout(probe, 50);
        };
        probe();
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (listener) nsp.off(PROBE_EVENT, listener);
  }
}
