/**
 * Events of a run as the server stores and streams them. The orchestrator's union (./types.ts) has one
 * `stage.log` event per line; the server batches lines into LogChunk rows (~100 ms / 64 KiB) and
 * publishes one `stage.log_chunk` per stored chunk instead, so live delivery and catch-up from the
 * database speak the same unit: a client that knows the last chunk `seq` it saw asks for what follows.
 */
import type { LogStream, RunEvent, StageLogEvent } from './types';

export interface StageLogChunkEvent {
  type: 'stage.log_chunk';
  time: string;
  runId: string;
  /** Planned stage id (`test[node=18]`). */
  stage: string;
  stageRunId: string;
  /** Chunk sequence number: per stage run, from 1, contiguous (LogChunk.seq). */
  seq: number;
  /** Line number (from 1, per stage run) of the first line of this chunk. */
  firstLine: number;
  lines: Array<{ stream: LogStream; line: string }>;
}

/**
 * A run was created (queued). Sent by whatever creates runs (the API, webhooks, the scheduler), in the
 * transaction that creates it, so lists show a run before a worker takes it; never stored.
 */
export interface RunQueuedEvent {
  type: 'run.queued';
  time: string;
  runId: string;
  pipelineId: string;
  number: number;
}

export type ServerRunEvent = Exclude<RunEvent, StageLogEvent> | StageLogChunkEvent | RunQueuedEvent;

/** Where the worker sends a run's events after storing them (Socket.IO rooms `run:{runId}` and `tenant:{tenantId}`). */
export interface RunEventPublisher {
  publish(target: { tenantId: string; runId: string }, event: ServerRunEvent): Promise<void>;
}
