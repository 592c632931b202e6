/**
 * The real RunEventPublisher: workers (which run no Socket.IO server) emit run events into the web
 * servers' rooms with `@socket.io/postgres-emitter` (NOTIFY, plus a row in socket_io_attachments for
 * payloads over 8000 bytes; see ./emitter.ts). Log chunks go to `run:{runId}`; status events to
 * `run:{runId}` and `tenant:{tenantId}` in one broadcast (a socket in both rooms gets them once).
 * `publish` resolves once the NOTIFY was sent and rejects when it could not be.
 */
import type pg from 'pg';
import type { RunEventPublisher, ServerRunEvent } from '../events/server-events';
import { ensureAttachmentsTable } from './attachments';
import { createPostgresEmitter } from './emitter';
import { RUN_EVENT, isStatusEvent, runRoom, tenantRoom } from './protocol';

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
      const rooms = isStatusEvent(event) ? [runRoom(target.runId), tenantRoom(target.tenantId)] : [runRoom(target.runId)];
      await emitter.emit(rooms, RUN_EVENT, event);
    },
  };
}
