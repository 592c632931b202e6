/** Runs, their stages and logs: request/response schemas and operations. */
import { z } from 'zod';
import { RUN_STATUSES, STAGE_STATUSES } from '../../events/types';
import { TRIGGER_EVENTS } from '../../pipeline/plan-types';
import { defineOperation } from '../operation';
import { Id, PageQuery, Timestamp, pageOf } from './common';
import { BranchName, PipelineParams } from './pipelines';

export { RUN_STATUSES } from '../../events/types';

export const RunParams = z.object({ runId: Id });
export const StageLogParams = z.object({ runId: Id, stageRunId: Id });

export const TriggerRunBody = z
  .object({
    event: z.enum(TRIGGER_EVENTS).default('manual'),
    branch: BranchName.optional().meta({ description: "defaults to the pipeline's default branch (except for tag pushes)" }),
    tag: z.string().min(1).max(255).optional(),
    sha: z
      .string()
      .regex(/^[0-9a-f]{7,64}$/i, 'a hex commit id')
      .optional(),
    message: z.string().max(10_000).optional(),
    author: z.string().max(500).optional(),
    variables: z
      .record(z.string().min(1).max(128), z.string().max(64 * 1024))
      .refine((vars) => Object.keys(vars).length <= 200, { message: 'at most 200 variables' })
      .default({}),
    changedFiles: z.array(z.string().min(1).max(4096)).max(100_000).optional().meta({
      description: 'files the trigger changed (paths from the repository root), for `on ... paths=` and `when changes=`; absent: unknown, or `changedSince`',
    }),
    changedSince: z.string().min(1).max(255).optional().meta({
      description:
        'a commit or branch: the changed files are computed from the repository, from where the run commit and it meet (`git merge-base`) to the run commit',
    }),
  })
  .strict();

export const RerunRunBody = z
  .object({
    failedOnly: z
      .boolean()
      .default(false)
      .meta({ description: 'run only the stages that did not succeed (and what depends on them), reusing the results and artifacts of the others' }),
  })
  .strict();

export const ListRunsQuery = PageQuery.extend({
  status: z.enum(RUN_STATUSES).optional().meta({ description: 'only runs in this status' }),
  branch: BranchName.optional().meta({ description: 'only runs of this branch' }),
});

export const LogsQuery = z.object({
  after: z.coerce
    .number()
    .int()
    .min(-1)
    .max(2 ** 31 - 1)
    .optional()
    .meta({ description: 'return chunks with seq greater than this (the last seq you have)' }),
  limit: z.coerce.number().int().min(1).max(1000).default(200).meta({ description: 'most chunks returned' }),
  format: z.enum(['json', 'text']).default('json').meta({ description: '`text`: the chunks concatenated as text/plain' }),
});

export const StageWaitingFor = z
  .object({
    lock: z.string(),
    runId: Id.nullable().meta({ description: 'the run whose stage holds the lock; null: no live holder, stages that asked earlier go first' }),
    runNumber: z.number().int().optional(),
    stage: z.string().optional().meta({ description: "the holder's planned stage id" }),
  })
  .nullable()
  .meta({ description: 'set while the stage (status `queued`) waits for its `lock`: the lock and who holds it' });

export const RunWaitingFor = z
  .object({
    group: z.string(),
    runId: Id.meta({ description: 'the oldest unfinished run of the group ahead of this one' }),
    runNumber: z.number().int(),
  })
  .nullable()
  .meta({ description: 'set while the run (status `queued`) waits for older runs of its concurrency `group`; it takes no worker slot meanwhile' });

export const StageRun = z
  .object({
    id: Id,
    stageId: z.string().meta({ description: 'planned stage id, matrix values included: `test[node=18]`' }),
    name: z.string(),
    matrix: z.record(z.string(), z.string()).nullable(),
    needs: z.array(z.string()),
    status: z.enum(STAGE_STATUSES),
    attempt: z.number().int(),
    exitCode: z.number().int().nullable(),
    executor: z.string().nullable(),
    reason: z.string().nullable(),
    outputs: z
      .record(z.string(), z.string())
      .nullable()
      .meta({ description: 'what the stage wrote to `$BUILDIT_OUTPUT` (stages that declare `outputs`), else null' }),
    stackRunId: Id.nullable().meta({ description: 'the stack run a `stack` stage queued (`GET /api/v1/stack-runs/{id}`), else null' }),
    waitingFor: StageWaitingFor,
    createdAt: Timestamp,
    startedAt: Timestamp.nullable(),
    finishedAt: Timestamp.nullable(),
  })
  .meta({ id: 'StageRun' });

const runFields = {
  id: Id,
  pipelineId: Id,
  number: z.number().int(),
  status: z.enum(RUN_STATUSES),
  event: z.string(),
  branch: z.string().nullable(),
  tag: z.string().nullable(),
  commitSha: z.string().nullable(),
  commitMessage: z.string().nullable(),
  commitAuthor: z.string().nullable(),
  variables: z.record(z.string(), z.string()),
  triggeredById: z.string().nullable(),
  triggeredBy: z.string().nullable().meta({ description: 'what started the run when no person did: `schedule`, `webhook:github`, ...' }),
  deliveryId: z.string().nullable().meta({ description: "the forge's id of the webhook delivery that started the run (docs/webhooks.md), else null" }),
  pullRequest: z
    .object({ number: z.number().int(), sourceBranch: z.string(), targetBranch: z.string() })
    .nullable()
    .meta({ description: 'the pull (merge) request a `pull_request` run is for; `branch` is then its target branch and `commitSha` its head commit' }),
  rerunOfId: Id.nullable().meta({ description: 'the run this one re-runs (POST /runs/{runId}/rerun), else null' }),
  cancelRequestedAt: Timestamp.nullable(),
  waitingFor: RunWaitingFor,
  createdAt: Timestamp,
  startedAt: Timestamp.nullable(),
  finishedAt: Timestamp.nullable(),
};

export const RunSummary = z.object(runFields).meta({ id: 'RunSummary' });
export type RunSummary = z.output<typeof RunSummary>;
export const Run = z
  .object({
    ...runFields,
    actor: z
      .object({ name: z.string().nullable(), email: z.string() })
      .nullable()
      .meta({ description: 'the person who started the run (`triggeredById`), while their user exists; null for runs started by a schedule or a webhook' }),
    stages: z.array(StageRun),
  })
  .meta({ id: 'Run' });
export type Run = z.output<typeof Run>;

export const LogChunk = z
  .object({
    seq: z.number().int(),
    text: z.string().meta({ description: "the chunk's lines, each ending with a newline: the chunks concatenated are the raw log" }),
    firstLine: z.number().int().meta({ description: "line number (per stage run, from 1) of the chunk's first line" }),
    lines: z.array(z.object({ stream: z.enum(['stdout', 'stderr', 'system']), line: z.string() })).meta({
      description: 'the same lines with the stream each came from (`system`: lines written by BuildIt itself), as in the Socket.IO `stage.log_chunk` event',
    }),
    createdAt: Timestamp,
  })
  .meta({ id: 'LogChunk' });
export const LogPage = z
  .object({
    chunks: z.array(LogChunk),
    next: z.number().int().nullable().meta({ description: 'pass as `after` to continue (null when no chunk has been written yet)' }),
    stageStatus: z.enum(STAGE_STATUSES),
    complete: z.boolean().meta({ description: 'true when the stage has finished and every chunk up to now was returned' }),
  })
  .meta({ id: 'LogPage' });
export type LogPage = z.output<typeof LogPage>;

export const triggerRun = defineOperation({
  operationId: 'triggerRun',
  method: 'POST',
  path: '/api/v1/pipelines/{pipelineId}/runs',
  tag: 'runs',
  summary: 'Trigger a run of a pipeline',
  description:
    'Plans the pipeline for the trigger and, in one transaction, creates the run (next number of the pipeline), one stage run per planned stage and the `run` job. 422 `not_triggered` when the pipeline does not run for this event/branch; 422 `plan_failed` when planning fails.',
  auth: 'token',
  params: PipelineParams,
  body: TriggerRunBody,
  responses: { 201: { description: 'the queued run with its planned stages', schema: Run } },
});

export const listRuns = defineOperation({
  operationId: 'listRuns',
  method: 'GET',
  path: '/api/v1/pipelines/{pipelineId}/runs',
  tag: 'runs',
  summary: 'List the runs of a pipeline, newest first',
  auth: 'token',
  params: PipelineParams,
  query: ListRunsQuery,
  responses: { 200: { description: 'a page of runs', schema: pageOf(RunSummary) } },
});

export const getRun = defineOperation({
  operationId: 'getRun',
  method: 'GET',
  path: '/api/v1/runs/{runId}',
  tag: 'runs',
  summary: 'Get a run with its stages',
  auth: 'token',
  params: RunParams,
  responses: { 200: { description: 'the run', schema: Run } },
});

export const cancelRun = defineOperation({
  operationId: 'cancelRun',
  method: 'POST',
  path: '/api/v1/runs/{runId}/cancel',
  tag: 'runs',
  summary: 'Cancel a run',
  description:
    'A queued run is cancelled at once; a running one gets `cancelRequestedAt` and the worker stops it. 409 `run_finished` when it has already finished.',
  auth: 'token',
  params: RunParams,
  responses: { 200: { description: 'the run after the request', schema: Run } },
});

export const getStageLogs = defineOperation({
  operationId: 'getStageLogs',
  method: 'GET',
  path: '/api/v1/runs/{runId}/stages/{stageRunId}/logs',
  tag: 'runs',
  summary: 'Read the log of a stage run from an offset',
  description:
    'Chunks in `seq` order after `after`. With `format=text` the chunks are returned concatenated as text/plain, and the last seq in the `BuildIt-Log-Next` header.',
  auth: 'token',
  params: StageLogParams,
  query: LogsQuery,
  responses: {
    200: { description: 'log chunks', schema: LogPage },
  },
});

export const rerunRun = defineOperation({
  operationId: 'rerunRun',
  method: 'POST',
  path: '/api/v1/runs/{runId}/rerun',
  tag: 'runs',
  summary: 'Run a finished run again',
  description:
    "Creates a new run (the pipeline's next number) from the SAME stored config source and trigger (event, branch, tag, commit, variables) as the run, not from the pipeline's current config. " +
    "With `failedOnly`, every stage that succeeded and whose needs all succeeded (transitively) is created `succeeded` (reason `reused from run #N`): it is not executed again and its artifacts are copied from the run's artifact store; the other stages run. " +
    "When a reused stage's artifacts are no longer available to the worker and a stage that runs needs them, the worker runs that stage again too. " +
    '409 `run_not_finished` while the run is queued or running; 422 `nothing_to_rerun` with `failedOnly` when no stage failed or was cancelled; 422 `config_unavailable` when the run has no stored config source.',
  auth: 'token',
  params: RunParams,
  body: RerunRunBody,
  responses: { 201: { description: 'the new, queued run with its planned stages', schema: Run } },
});

export const runOperations = [triggerRun, listRuns, getRun, cancelRun, rerunRun, getStageLogs];
