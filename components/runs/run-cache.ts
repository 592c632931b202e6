// The run in the query cache, and how live events change it (docs/realtime.md). Events may repeat what the
// cache already says (the snapshot is read before a held event is flushed): every change is idempotent, a
// final status stays final, and only a `stage.started` of a later attempt starts a stage again.
import type { ServerRunEvent } from '../../lib/events/server-events';
import type { StageStatus } from '../../lib/events/types';
import type { RunSnapshot } from '../../lib/realtime/protocol';
import type { Run } from '../../lib/api/schemas/runs';

export type { Run };
export type StageRun = Run['stages'][number];

export const runKey = (runId: string) => ['run', runId] as const;
export const stageLogKey = (runId: string, stageRunId: string) => ['run', runId, 'log', stageRunId] as const;

const FINAL_STAGE: ReadonlySet<StageStatus> = new Set(['succeeded', 'failed', 'skipped', 'cancelled']);
const FINAL_RUN: ReadonlySet<Run['status']> = new Set(['succeeded', 'failed', 'cancelled']);

export const isFinishedRun = (run: Pick<Run, 'status'>) => FINAL_RUN.has(run.status);
export const isFinishedStage = (stage: Pick<StageRun, 'status'>) => FINAL_STAGE.has(stage.status);

function updateStage(run: Run, stageId: string, update: (stage: StageRun) => StageRun): Run {
  let changed = false;
  const stages = run.stages.map((stage) => {
    if (stage.stageId !== stageId) return stage;
    const next = update(stage);
    changed ||= next !== stage;
    return next;
  });
  return changed ? { ...run, stages } : run;
}

/** The run after a status event (log chunks go to the log stores, not here). */
export function applyRunEvent(run: Run, event: ServerRunEvent): Run {
  switch (event.type) {
    case 'run.queued':
      // The run as it was created: what the page read is as new or newer.
      return run;
    case 'run.started':
      return isFinishedRun(run) ? run : { ...run, status: 'running', startedAt: run.startedAt ?? event.time };
    case 'run.finished':
      return { ...run, status: event.status, finishedAt: run.finishedAt ?? event.time };
    case 'stage.queued':
    case 'stage.waiting_approval': {
      const status = event.type === 'stage.queued' ? 'queued' : 'waiting_approval';
      return updateStage(run, event.stage, (stage) => (isFinishedStage(stage) || stage.status === 'running' ? stage : { ...stage, status }));
    }
    case 'stage.started':
      return updateStage(run, event.stage, (stage) => {
        if (isFinishedStage(stage) && event.attempt <= stage.attempt) return stage;
        // Already running by the snapshot, which has no times: the event still tells when it started.
        if (stage.status === 'running' && event.attempt <= stage.attempt) return stage.startedAt ? stage : { ...stage, startedAt: event.time };
        return {
          ...stage,
          status: 'running',
          attempt: event.attempt,
          executor: event.executor,
          exitCode: null,
          reason: null,
          waitingFor: null,
          startedAt: stage.startedAt ?? event.time,
          finishedAt: null,
        };
      });
    case 'stage.finished':
      return updateStage(run, event.stage, (stage) => {
        if (isFinishedStage(stage) && stage.attempt >= event.attempt) return stage.finishedAt ? stage : { ...stage, finishedAt: event.time };
        return {
          ...stage,
          status: event.status,
          exitCode: event.exitCode,
          reason: event.reason ?? null,
          finishedAt: event.time,
          ...(event.attempt > 0 ? { attempt: event.attempt } : {}),
        };
      });
    case 'stage.waiting_lock':
      return updateStage(run, event.stage, (stage) =>
        isFinishedStage(stage) || stage.status === 'running' ? stage : { ...stage, waitingFor: { lock: event.lock, ...(event.holder ?? { runId: null }) } },
      );
    case 'stage.log_chunk':
      return run;
  }
}

/** The run after a `run.snapshot`: statuses as stored now (times stay the REST API's, or the events'). */
export function applySnapshot(run: Run, snapshot: RunSnapshot): Run {
  const byId = new Map(snapshot.stages.map((stage) => [stage.id, stage]));
  return {
    ...run,
    status: snapshot.status,
    cancelRequestedAt: snapshot.cancelRequested ? (run.cancelRequestedAt ?? new Date().toISOString()) : run.cancelRequestedAt,
    stages: run.stages.map((stage) => {
      const stored = byId.get(stage.id);
      if (!stored) return stage;
      return { ...stage, status: stored.status, attempt: stored.attempt, exitCode: stored.exitCode, reason: stored.reason };
    }),
  };
}
