/** One stage run of a run: approving or denying it (docs/approvals.md), and its whole log as a file. */
import { z } from 'zod';
import { defineOperation } from '../operation';
import { StageLogParams, StageRun } from './runs';

export const approveStage = defineOperation({
  operationId: 'approveStage',
  method: 'POST',
  path: '/api/v1/runs/{runId}/stages/{stageRunId}/approve',
  tag: 'runs',
  summary: 'Approve a stage that waits for approval',
  description:
    'Records the approval of an `approval` stage in status `waiting_approval`; the worker running the run then queues it (`stage.queued`). ' +
    '409 `stage_not_waiting` when the stage does not wait for approval (not reached yet, or already started, skipped or cancelled); ' +
    '409 `already_decided` when someone answered first.',
  auth: 'token',
  params: StageLogParams,
  responses: { 200: { description: 'the stage run, still `waiting_approval` until the worker acts on the decision', schema: StageRun } },
});

export const denyStage = defineOperation({
  operationId: 'denyStage',
  method: 'POST',
  path: '/api/v1/runs/{runId}/stages/{stageRunId}/deny',
  tag: 'runs',
  summary: 'Deny a stage that waits for approval',
  description:
    'Records the refusal of an `approval` stage in status `waiting_approval`: the worker skips it (reason `approval denied by NAME`), and the stages that need it are skipped too. ' +
    'Same 409 answers as approving.',
  auth: 'token',
  params: StageLogParams,
  responses: { 200: { description: 'the stage run, still `waiting_approval` until the worker acts on the decision', schema: StageRun } },
});

export const downloadStageLog = defineOperation({
  operationId: 'downloadStageLog',
  method: 'GET',
  path: '/api/v1/runs/{runId}/stages/{stageRunId}/logs/raw',
  tag: 'runs',
  summary: 'Download the whole log of a stage run as text',
  description:
    'Every stored line, as text/plain streamed from the database (`Content-Disposition: attachment`), whatever its size; a stage still running gives what is stored so far.',
  auth: 'token',
  params: StageLogParams,
  responses: { 200: { description: 'the raw log', schema: z.string(), contentType: 'text/plain' } },
});

export const stageOperations = [approveStage, denyStage, downloadStageLog];
