/**
 * Publishing through `@socket.io/postgres-emitter` (0.1.1) to servers running `@socket.io/postgres-adapter`
 * (0.5), with three gaps of the emitter closed in one place:
 *
 * 1. Its messages carry no `nsp` field, and the adapter (0.4+: one shared LISTEN client for every
 *    namespace, routing by `message.nsp`) silently drops messages without one. We set it to the
 *    emitter's namespace before the message is encoded (inline JSON or msgpack attachment alike).
 * 2. `serverSideEmit()` returns before the NOTIFY is sent: we await the operator's publish promise.
 * 3. A failed publish is re-emitted by the emitter as an "error" event to every client (which fails
 *    again, in a loop, while the database is down): we turn it into a rejection.
 *
 * (1) and (2) use the BroadcastOperator's `publish(document)` method and (3) its `emit`, both methods of
 * the package's JavaScript (not of its typings); tests/realtime covers them, so an upgrade that changes
 * them fails there.
 */
import { Emitter } from '@socket.io/postgres-emitter';
import type pg from 'pg';
import { ATTACHMENTS_TABLE } from './attachments';

interface Operator {
  emit(event: string, ...args: unknown[]): boolean;
  serverSideEmit(event: string, ...args: unknown[]): void;
  publish(document: Record<string, unknown>): Promise<void>;
}

export interface PostgresEmitter {
  /** Emits to the Socket.IO servers themselves (`io.of(nsp).on(event)` on each); resolves once sent. */
  serverSideEmit(event: string, ...args: unknown[]): Promise<void>;
}

export function createPostgresEmitter(pool: pg.Pool, nsp = '/'): PostgresEmitter {
  const emitter = new Emitter(pool, nsp, { tableName: ATTACHMENTS_TABLE });

  return {
    async serverSideEmit(event, ...args) {
      const operator = emitter.to([]) as unknown as Operator;
      const prototype = Object.getPrototypeOf(operator) as Operator;
      let sending: Promise<void> | undefined;
      let failure: unknown;
      operator.publish = (document) => {
        document.nsp ??= nsp;
        sending = prototype.publish.call(operator, document);
        return sending;
      };
      // Called by `publish` only, as emit('error', cause), when the message could not be sent (gap 3).
      operator.emit = (_name, cause) => {
        failure = cause ?? new Error('publishing to Socket.IO failed');
        return true;
      };
      operator.serverSideEmit(event, ...args);
      await sending;
      if (failure !== undefined) throw failure;
    },
  };
}
