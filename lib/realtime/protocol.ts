/**
 * The Socket.IO protocol between the web server (lib/realtime/server.ts), the workers
 * (lib/realtime/publisher.ts) and clients (web UI, `buildit runs logs --follow`). Described for people in
 * docs/realtime.md; this file is the TypeScript source of truth. No server-only imports: clients use it.
 */
import type { RunStatus, StageStatus } from '../events/types';
import type { ServerRunEvent, StageLogChunkEvent } from '../events/server-events';

/** Server → client: one run event, live or from the catch-up (log chunks). */
export const RUN_EVENT = 'run.event';
/** Server → client: the run's current state, sent first on `subscribe`, before the catch-up chunks. */
export const RUN_SNAPSHOT = 'run.snapshot';

/** Client → server (with an ack): follow a run, catching up on log chunks after `after[stageRunId]`. */
export const SUBSCRIBE = 'subscribe';
/** Client → server (with an ack): follow the status events of every run of a tenant. */
export const SUBSCRIBE_TENANT = 'subscribe_tenant';
/** Client → server (with an ack): stop following a run or a tenant. */
export const UNSUBSCRIBE = 'unsubscribe';

/**
 * Worker → web servers (a Socket.IO server-side emit; clients never see it): one run event and the id of its
 * run's tenant. Each web server delivers it to its own sockets in the run's rooms, as `run.event`.
 */
export const RELAY_RUN_EVENT = 'buildit:run-event';

/** Server → client: a stack run changed (its status, or a new log chunk), to sockets in its tenant's room. */
export const STACK_RUN_EVENT = 'stack_run.event';
/** Worker → web servers: a StackRunEvent and the id of its stack's tenant, delivered as `stack_run.event`. */
export const RELAY_STACK_RUN_EVENT = 'buildit:stack-run-event';

/**
 * A stack run as just stored: its status, whether a cancel was asked for, and the last log chunk's seq. Readers re-read what
 * changed from the REST API (`GET /api/v1/stack-runs/{id}`, `.../logs?after=`); repeats are harmless.
 */
export interface StackRunEvent {
  stackRunId: string;
  stackId: string;
  status: string;
  /** Highest log chunk seq stored (0: none). */
  lastSeq: number;
  /** Someone asked to cancel it (a planning or applying run stops once terraform did). */
  cancelRequested: boolean;
  /** Its plan file and attribute-level plan are stored (a moment after `planned`); false before and without a plan. */
  planStored: boolean;
}

/** Socket.IO room names; the server joins sockets to them after authorization and delivers run events to them. */
export const runRoom = (runId: string) => `run:${runId}`;
export const tenantRoom = (tenantId: string) => `tenant:${tenantId}`;

/** Codes of failed acks and of `connect_error` (`err.message` is the code; `err.data` the ErrorBody). */
export type RealtimeErrorCode = 'unauthorized' | 'bad_request' | 'not_found' | 'internal';

export interface ErrorBody {
  code: RealtimeErrorCode;
  message: string;
}

export interface SubscribeRequest {
  runId: string;
  /** Last chunk seq the client has, per stage run id; stage runs not listed get all their chunks. */
  after?: Record<string, number>;
}

export interface StageSnapshot {
  /** StageRun id (the key of `after` and of `stage.log_chunk.stageRunId`). */
  id: string;
  /** Planned stage id (`test[node=18]`), as in events' `stage`. */
  stage: string;
  name: string;
  needs: string[];
  status: StageStatus;
  attempt: number;
  exitCode: number | null;
  reason: string | null;
  /** Highest chunk seq stored when the snapshot was read (0: none). */
  lastSeq: number;
}

export interface RunSnapshot {
  runId: string;
  tenantId: string;
  pipelineId: string;
  number: number;
  status: RunStatus;
  cancelRequested: boolean;
  stages: StageSnapshot[];
}

export type SubscribeAck =
  | {
      ok: true;
      /** Catch-up chunks sent before this ack (the buffered live events follow it). */
      sent: number;
      /** Last seq per stage run id that the client has once the catch-up chunks are in. */
      caughtUp: Record<string, number>;
    }
  | { ok: false; error: ErrorBody };

export type SimpleAck = { ok: true } | { ok: false; error: ErrorBody };

export interface ServerToClientEvents {
  [RUN_EVENT]: (event: ServerRunEvent) => void;
  [RUN_SNAPSHOT]: (snapshot: RunSnapshot) => void;
  [STACK_RUN_EVENT]: (event: StackRunEvent) => void;
}

/** Server-side emits between the workers' publishers and the web servers. */
export interface ServerSideEvents {
  [RELAY_RUN_EVENT]: (tenantId: string, event: ServerRunEvent) => void;
  [RELAY_STACK_RUN_EVENT]: (tenantId: string, event: StackRunEvent) => void;
}

export interface ClientToServerEvents {
  [SUBSCRIBE]: (request: SubscribeRequest, ack: (response: SubscribeAck) => void) => void;
  [SUBSCRIBE_TENANT]: (request: { tenantId: string }, ack: (response: SimpleAck) => void) => void;
  [UNSUBSCRIBE]: (request: { runId?: string; tenantId?: string }, ack: (response: SimpleAck) => void) => void;
}

/** Run events that go to the tenant room as well (status changes; never log chunks). */
export function isStatusEvent(event: ServerRunEvent): boolean {
  return event.type !== 'stage.log_chunk';
}

export function isLogChunk(event: ServerRunEvent): event is StageLogChunkEvent {
  return event.type === 'stage.log_chunk';
}

export const FINAL_RUN_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];
