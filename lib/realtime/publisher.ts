/**
 * The real RunEventPublisher: workers (which run no Socket.IO server) emit run events into the web
 * servers' rooms with `@socket.io/postgres-emitter` (NOTIFY, plus a row in socket_io_attachments for
 * payloads over 8000 bytes). Log chunks go to `run:{runId}`; status events to `run:{runId}` and
 * `tenant:{tenantId}` in one broadcast (a socket in both rooms gets them once).
 */
import { Emitter } from '@socket.io/postgres-emitter';
import type pg from 'pg';
import type { RunEventPublisher, ServerRunEvent } from '../events/server-events';
import { ATTACHMENTS_TABLE, ensureAttachmentsTable } from './attachments';
import { RUN_EVENT, isStatusEvent, runRoom, tenantRoom } from './protocol';

/**
 * The emitter's BroadcastOperator as used here. `emit` returns before the NOTIFY is sent and a failure
 * is re-emitted as an "error" event to the same rooms (which would fail again, and again, while the
 * database is down); so each publish uses its own operator whose `publish` promise is awaited and whose
 * "error" emission is turned into a rejection. Both are methods of the package's BroadcastOperator (0.1).
 */
interface Operator {
  emit(event: string, ...args: unknown[]): boolean;
  publish(document: unknown): Promise<void>;
}

export function createRunEventPublisher(pool: pg.Pool): RunEventPublisher {
  const emitter = new Emitter(pool, '/', { tableName: ATTACHMENTS_TABLE });
  let tableReady: Promise<void> | null = null;

  return {
    async publish(target, event: ServerRunEvent) {
      if (event.runId !== target.runId) throw new Error(`publish: event of run ${event.runId} sent for run ${target.runId}`);
      // Large chunks go through the attachments table: make sure it exists (once per publisher).
      tableReady ??= ensureAttachmentsTable(pool).catch((error: unknown) => {
        tableReady = null;
        throw error;
      });
      await tableReady;

      const rooms = isStatusEvent(event) ? [runRoom(target.runId), tenantRoom(target.tenantId)] : [runRoom(target.runId)];
      const operator = emitter.to(rooms) as unknown as Operator;
      const prototype = Object.getPrototypeOf(operator) as Operator;
      let sending: Promise<void> | undefined;
      let failure: unknown;
      operator.publish = (document) => (sending = prototype.publish.call(operator, document));
      operator.emit = (name, ...args) => {
        if (name === 'error') {
          failure = args[0] ?? new Error('publish failed');
          return true;
        }
        return prototype.emit.call(operator, name, ...args);
      };
      operator.emit(RUN_EVENT, event);
      await sending;
      if (failure !== undefined) throw failure;
    },
  };
}
