/**
 * The one event union of a pipeline run. The orchestrator emits these; the CLI prints them
 * (`buildit run --json` writes exactly these objects as NDJSON), the worker stores then publishes
 * them, the web UI renders them. Keep it stable: it is a documented contract (docs/events.md).
 */

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const STAGE_STATUSES = ['pending', 'queued', 'waiting_approval', 'running', 'succeeded', 'failed', 'skipped', 'cancelled'] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];
/** Final statuses of a stage. */
export type StageOutcome = Extract<StageStatus, 'succeeded' | 'failed' | 'skipped' | 'cancelled'>;
export type RunOutcome = Extract<RunStatus, 'succeeded' | 'failed' | 'cancelled'>;
export type LogStream = 'stdout' | 'stderr' | 'system';

interface EventBase {
  /** ISO 8601 timestamp with milliseconds. */
  time: string;
  runId: string;
}

export interface RunStartedEvent extends EventBase {
  type: 'run.started';
  pipeline: string;
  stages: Array<{ id: string; name: string; needs: string[] }>;
}
export interface StageQueuedEvent extends EventBase {
  type: 'stage.queued';
  stage: string;
}
/** An `approval` stage whose needs succeeded now waits for a person (approved: `stage.queued`; denied: `stage.finished` skipped). */
export interface StageWaitingApprovalEvent extends EventBase {
  type: 'stage.waiting_approval';
  stage: string;
}
/**
 * A stage with `lock "NAME"` got its slot but another stage run holds the lock: it waits (status stays
 * `queued`) until the lock is free and its turn comes (then `stage.started`). Emitted again when the holder changes.
 */
export interface StageWaitingLockEvent extends EventBase {
  type: 'stage.waiting_lock';
  stage: string;
  lock: string;
  /** Who holds it now (null: no live holder, earlier waiters go first). */
  holder: { runId: string; stage: string; runNumber?: number } | null;
}
export interface StageStartedEvent extends EventBase {
  type: 'stage.started';
  stage: string;
  attempt: number;
  executor: string;
}
export interface StageLogEvent extends EventBase {
  type: 'stage.log';
  stage: string;
  stream: LogStream;
  /** One line, without its newline, secrets already masked. */
  line: string;
  /** Per stage, starting at 1, contiguous across attempts. */
  seq: number;
}
export interface StageFinishedEvent extends EventBase {
  type: 'stage.finished';
  stage: string;
  status: StageOutcome;
  exitCode: number | null;
  attempt: number;
  durationMs: number;
  /** Why it failed, was skipped or cancelled (absent on success). */
  reason?: string;
  /** What a succeeded stage that declares `outputs` wrote to `$BUILDIT_OUTPUT` (absent otherwise). */
  outputs?: Record<string, string>;
}
export interface RunFinishedEvent extends EventBase {
  type: 'run.finished';
  status: RunOutcome;
  durationMs: number;
}

export type RunEvent =
  | RunStartedEvent
  | StageQueuedEvent
  | StageWaitingApprovalEvent
  | StageWaitingLockEvent
  | StageStartedEvent
  | StageLogEvent
  | StageFinishedEvent
  | RunFinishedEvent;

/** Where the orchestrator sends events: a terminal printer, NDJSON, or the database + Socket.IO. */
export interface EventSink {
  /** May be async: the orchestrator awaits it, so "written first, then emitted" holds. */
  emit(event: RunEvent): void | Promise<void>;
}
