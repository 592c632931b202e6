/**
 * Crash recovery: what a worker takes over from one that stopped (the run job claimed again while the
 * run is `running`).
 * - Finished stages keep their stored result (they are never run again).
 * - Running stages on an executor whose work outlives a worker (docker): the attempt's work is found by
 *   its labels (`recover`). Running or exited, the orchestrator re-attaches to its log, skipping the
 *   lines of that attempt already stored, and takes its exit code. Gone: the attempt fails `lost`
 *   (retried when the stage has `retry` left: the old attempt cannot be running any more).
 * - Running stages on an executor whose work dies with its worker's pipes (local): the stage fails
 *   `lost` and is not retried (its process may still run, unsupervised).
 * - Running `stack` stages wait again for the stack run they queued (stored on the stage run).
 * - Stages that had not started begin again from pending.
 */
import type { Executor } from '../../../lib/engine/executors/types';
import { executorFor, type ResumedStage, type StageResult } from '../../../lib/engine/orchestrator';
import type { PrismaClient, StageRun } from '../../../lib/generated/prisma/client';
import type { ExecutionPlan } from '../../../lib/pipeline/plan-types';
import { countStoredOutputLines } from '../../../lib/runs/log-chunks';
import { isFinishedStageStatus } from '../../../lib/runs/statuses';

export async function prepareResume(options: {
  prisma: PrismaClient;
  runId: string;
  plan: ExecutionPlan;
  stages: StageRun[];
  executors: Record<string, Executor>;
}): Promise<Record<string, ResumedStage>> {
  const planned = new Map(options.plan.stages.map((stage) => [stage.id, stage]));
  const resume: Record<string, ResumedStage> = {};
  for (const row of options.stages) {
    const stage = planned.get(row.stageId);
    if (!stage) continue;
    if (isFinishedStageStatus(row.status)) {
      resume[row.stageId] = { state: 'finished', result: storedResult(row, row.status, stage.allowFailure, stage.executor) };
      continue;
    }
    if (row.status !== 'running') continue;
    const base = { state: 'running' as const, attempt: row.attempt, ...(row.startedAt ? { startedAt: row.startedAt.getTime() } : {}) };
    if (stage.kind === 'stack') {
      // Nothing runs on an executor: the stage waits again for the stack run stored on its row (run/stacks.ts).
      resume[row.stageId] = { ...base, handle: null, skipLines: 0, retryLost: false };
      continue;
    }
    const executorName = row.executor ?? executorFor(stage);
    const executor = options.executors[executorName];
    if (!executor?.survivesWorker) {
      const why = executor ? `a ${executorName} stage cannot be recovered` : `this worker has no ${executorName} executor to find its work on`;
      resume[row.stageId] = { ...base, handle: null, skipLines: 0, retryLost: false, lostReason: `lost: the worker running this stage stopped, and ${why}` };
      continue;
    }
    const handle = await executor.recover({ runId: options.runId, stageId: row.stageId, attempt: row.attempt });
    const skipLines = handle ? await countStoredOutputLines(options.prisma, row.id, row.attempt) : 0;
    resume[row.stageId] = { ...base, handle, skipLines, retryLost: true, lostReason: 'lost: the worker running this stage stopped and its work is gone' };
  }
  return resume;
}

function storedResult(row: StageRun, status: StageResult['status'], allowFailure: boolean, plannedExecutor: string | null): StageResult {
  return {
    id: row.stageId,
    name: row.name,
    status,
    ...(row.reason === null ? {} : { reason: row.reason }),
    exitCode: row.exitCode,
    attempts: row.startedAt ? row.attempt : 0,
    durationMs: row.startedAt && row.finishedAt ? row.finishedAt.getTime() - row.startedAt.getTime() : 0,
    executor: row.startedAt ? (row.executor ?? plannedExecutor) : null,
    allowFailure,
    ...(row.outputs === null ? {} : { outputs: row.outputs as Record<string, string> }),
  };
}
