/**
 * The real RunEventPublisher: workers (which run no Socket.IO server) send run events to every web server
 * with `@socket.io/postgres-emitter` (NOTIFY, plus a row in socket_io_attachments for payloads over 8000
 * bytes; see ./emitter.ts), as a server-side emit that each web server delivers to its own sockets
 * (./server.ts). `publish` resolves once the NOTIFY was sent and rejects when it could not be.
 */
import type pg from 'pg';
import type { RunEventPublisher, RunQueuedEvent, ServerRunEvent } from '../events/server-events';
import { ensureAttachmentsTable } from './attachments';
import { createPostgresEmitter } from './emitter';
import { RELAY_RUN_EVENT, RELAY_STACK_RUN_EVENT, type StackRunEvent } from './protocol';

export function createRunEventPublisher(pool: pg.Pool): RunEventPublisher {
  const emitter = createPostgresEmitter(pool);
  let tableReady: Promise<void> | null = null;

  return {
    async publish(target, event: ServerRunEvent) {
      if (event.runId !== target.runId) throw new Error(`publish: an event of run ${event.runId} was sent for run ${target.runId}`);
      // Large chunks go through the attachments table: make sure it exists (once per publisher).
      tableReady ??= ensureAttachmentsTable(pool).catch((error: unknown) => {
        tableReady = null;
        throw error;
      });
      await tableReady;
      await emitter.serverSideEmit(RELAY_RUN_EVENT, target.tenantId, event);
    },
  };
}

export interface StackRunEventPublisher {
  publish(tenantId: string, event: StackRunEvent): Promise<void>;
}

/** The workers' side of `stack_run.event`: a small payload, so no attachments table is needed. */
export function createStackRunEventPublisher(pool: pg.Pool): StackRunEventPublisher {
  const emitter = createPostgresEmitter(pool);
  return { publish: (tenantId, event) => emitter.serverSideEmit(RELAY_STACK_RUN_EVENT, tenantId, event) };
}

type RawDb = { $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number> };

/**
 * A pool-like over a Prisma client or transaction (the API's): the emitter only runs `query(sql, values)`, a
 * `SELECT pg_notify(...)` for a small payload, so a NOTIFY sent in a transaction is delivered when it
 * commits. Its attachments path (payloads over 8000 bytes, which need the returned row) is not for this.
 */
function notifyingOn(db: RawDb): pg.Pool {
  const queryable = {
    async query(sql: string, values: unknown[] = []) {
      await db.$executeRawUnsafe(sql, ...values);
      return { rows: [] };
    },
  };
  return queryable as unknown as pg.Pool;
}

/** The stack-run publisher over a Prisma client or transaction (see notifyingOn). */
export function createStackRunEventPublisherOn(db: RawDb): StackRunEventPublisher {
  return createStackRunEventPublisher(notifyingOn(db));
}

/** Announces a new run to its tenant's room and its own (see notifyingOn: delivered when `tx` commits). */
export async function announceRunQueued(tx: RawDb, tenantId: string, event: RunQueuedEvent): Promise<void> {
  await createPostgresEmitter(notifyingOn(tx)).serverSideEmit(RELAY_RUN_EVENT, tenantId, event);
}
