/** Stack runs, their plans and logs; state versions and the state lock: schemas and operations (docs/stacks.md). */
import { z } from 'zod';
import { defineOperation } from '../operation';
import { Id, PageQuery, Timestamp, pageOf } from './common';
import { StackParams } from './stack-state';
import { STACK_RUN_KINDS, StackOutput, StackRunSummary } from './stacks';

export const StackRunParams = z.object({ stackRunId: Id });
export const StateVersionParams = z.object({ stateVersionId: Id });

/** Largest uploaded configuration (.tar.gz), within the API's 1 MiB JSON body once in base64. */
export const MAX_CONFIG_ARCHIVE_BYTES = 700 * 1024;

export const CreateStackRunBody = z
  .object({
    kind: z
      .enum(STACK_RUN_KINDS)
      .default('apply')
      .meta({ description: '`plan`: a plan only; `apply`/`destroy`: a plan to approve and apply; `drift`: a drift check' }),
    configuration: z
      .base64()
      .refine((text) => Buffer.byteLength(text, 'base64') <= MAX_CONFIG_ARCHIVE_BYTES, `an uploaded configuration is at most ${MAX_CONFIG_ARCHIVE_BYTES} bytes`)
      .optional()
      .meta({ description: "the configuration as a base64 .tar.gz (stacks without a repository); omitted: the stack's last upload" }),
  })
  .strict();

const AttributeChange = z.object({
  path: z.string(),
  before: z.unknown().meta({ description: 'null when sensitive' }),
  after: z.unknown().meta({ description: 'null when sensitive or known only after the apply' }),
  sensitive: z.boolean(),
  unknownAfter: z.boolean(),
  forcesReplacement: z.boolean(),
});
const RESOURCE_ACTIONS = ['create', 'update', 'delete', 'replace', 'read', 'no-op'] as const;

export const PlanView = z
  .object({
    attributes: z.enum(['pending', 'stored']).meta({
      description:
        '`pending`: the run was just planned and lists its changed resources; their attribute changes and the output changes follow a moment later (`stored`). An approval waits for them',
    }),
    summary: z.object({ add: z.number().int(), change: z.number().int(), destroy: z.number().int(), replace: z.number().int() }),
    resources: z.array(
      z.object({
        address: z.string(),
        type: z.string(),
        name: z.string(),
        action: z.enum(RESOURCE_ACTIONS),
        reason: z.string().nullable().meta({ description: "terraform's action_reason, e.g. `replace_because_cannot_update`" }),
        changes: z.array(AttributeChange),
      }),
    ),
    outputs: z.array(
      z.object({
        name: z.string(),
        action: z.enum(RESOURCE_ACTIONS),
        before: z.unknown(),
        after: z.unknown(),
        sensitive: z.boolean(),
        unknownAfter: z.boolean(),
      }),
    ),
  })
  .meta({ id: 'PlanView', description: 'resources grouped by action (replace, delete, create, update, read); sensitive values masked' });

export const StackRun = StackRunSummary.extend({
  plan: PlanView.nullable().meta({ description: 'the structured plan once planned' }),
  planStateVersion: z.number().int().nullable().meta({ description: 'the state version the plan was made against' }),
  stale: z.boolean().meta({ description: 'the state changed since the plan: it cannot be applied' }),
}).meta({ id: 'StackRun' });
export type StackRun = z.output<typeof StackRun>;

export const StackRunLogsQuery = z.object({
  after: z.coerce.number().int().min(0).default(0).meta({ description: 'return chunks with seq greater than this' }),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});
export const StackRunLogs = z.object({
  items: z.array(z.object({ seq: z.number().int(), text: z.string().meta({ description: 'lines, each ending with \\n' }), createdAt: Timestamp })),
  finished: z.boolean().meta({ description: 'the run is over: no more chunks will come' }),
});

export const listStackRuns = defineOperation({
  operationId: 'listStackRuns',
  method: 'GET',
  path: '/api/v1/stacks/{stackId}/runs',
  tag: 'stacks',
  summary: 'List the runs of a stack',
  auth: 'token',
  params: StackParams,
  query: PageQuery,
  responses: { 200: { description: 'a page of runs, newest first', schema: pageOf(StackRunSummary) } },
});

export const createStackRun = defineOperation({
  operationId: 'createStackRun',
  method: 'POST',
  path: '/api/v1/stacks/{stackId}/runs',
  tag: 'stacks',
  summary: 'Queue a run of a stack',
  description: 'stack.plan; an apply or destroy on an auto-apply stack needs stack.apply. One run of a stack runs at a time; others wait.',
  auth: 'token',
  params: StackParams,
  body: CreateStackRunBody,
  responses: { 201: { description: 'the queued run', schema: StackRun } },
});

export const getStackRun = defineOperation({
  operationId: 'getStackRun',
  method: 'GET',
  path: '/api/v1/stack-runs/{stackRunId}',
  tag: 'stacks',
  summary: 'Get a stack run with its change summary and structured plan (sensitive values masked)',
  auth: 'token',
  params: StackRunParams,
  responses: { 200: { description: 'the run', schema: StackRun } },
});

const runAction = (operationId: string, action: string, summary: string, description: string) =>
  defineOperation({
    operationId,
    method: 'POST',
    path: `/api/v1/stack-runs/{stackRunId}/${action}`,
    tag: 'stacks',
    summary,
    description,
    auth: 'token',
    params: StackRunParams,
    responses: { 200: { description: 'the run', schema: StackRun } },
  });

export const approveStackRun = runAction(
  'approveStackRun',
  'approve',
  'Approve a planned run: its plan is applied',
  'stack.apply, audited. 409 unless the run is a planned apply/destroy whose plan is not older than the state.',
);
export const discardStackRun = runAction('discardStackRun', 'discard', 'Discard a planned run', 'stack.apply, audited. 409 unless the run is planned.');
export const cancelStackRun = runAction(
  'cancelStackRun',
  'cancel',
  'Cancel a run',
  'stack.plan. A queued or planned run ends at once; a running one gets SIGINT, then is killed after a grace period; its lock is released.',
);

export const getStackRunLogs = defineOperation({
  operationId: 'getStackRunLogs',
  method: 'GET',
  path: '/api/v1/stack-runs/{stackRunId}/logs',
  tag: 'stacks',
  summary: "A stack run's log: terraform's output as readable lines, sensitive values masked",
  auth: 'token',
  params: StackRunParams,
  query: StackRunLogsQuery,
  responses: { 200: { description: 'chunks after `after`', schema: StackRunLogs } },
});

// --- state versions and the lock ---------------------------------------------------------------

export const StateVersionSummary = z
  .object({
    id: Id,
    stackId: Id,
    number: z.number().int(),
    serial: z.number().int(),
    lineage: z.string(),
    md5: z.string(),
    runId: Id.nullable().meta({ description: 'the run that wrote it' }),
    createdBy: z.object({ id: Id, email: z.string() }).nullable().meta({ description: 'the person who wrote it (an API token, a rollback)' }),
    rollbackOf: z.number().int().nullable().meta({ description: 'the version a rollback copied' }),
    createdAt: Timestamp,
  })
  .meta({ id: 'StateVersionSummary' });
export type StateVersionSummary = z.output<typeof StateVersionSummary>;

export const StateVersion = StateVersionSummary.extend({
  terraformVersion: z.string().nullable(),
  outputs: z.record(z.string(), StackOutput),
  resources: z.array(z.object({ address: z.string(), mode: z.string(), type: z.string(), instances: z.number().int() })),
}).meta({ id: 'StateVersion', description: 'a state version without its attributes; sensitive outputs without value' });
export type StateVersion = z.output<typeof StateVersion>;

export const listStateVersions = defineOperation({
  operationId: 'listStateVersions',
  method: 'GET',
  path: '/api/v1/stacks/{stackId}/state-versions',
  tag: 'stacks',
  summary: 'List the state versions of a stack',
  auth: 'token',
  params: StackParams,
  query: PageQuery,
  responses: { 200: { description: 'a page of versions, newest first', schema: pageOf(StateVersionSummary) } },
});

export const getStateVersion = defineOperation({
  operationId: 'getStateVersion',
  method: 'GET',
  path: '/api/v1/state-versions/{stateVersionId}',
  tag: 'stacks',
  summary: 'Show a state version: resources and outputs, sensitive values hidden',
  auth: 'token',
  params: StateVersionParams,
  responses: { 200: { description: 'the version', schema: StateVersion } },
});

export const rollbackStateVersion = defineOperation({
  operationId: 'rollbackStateVersion',
  method: 'POST',
  path: '/api/v1/state-versions/{stateVersionId}/rollback',
  tag: 'stacks',
  summary: 'Make this version the current state again (written as a new version)',
  description: 'stack.apply, audited. 409 `state_locked` while the state is locked.',
  auth: 'token',
  params: StateVersionParams,
  responses: { 201: { description: 'the new version', schema: StateVersionSummary } },
});

export const forceUnlockStack = defineOperation({
  operationId: 'forceUnlockStack',
  method: 'DELETE',
  path: '/api/v1/stacks/{stackId}/lock',
  tag: 'stacks',
  summary: "Force-unlock a stack's state",
  description: "stack.apply, audited. For a lock whose holder is gone (a worker killed mid-apply, a laptop's terraform that crashed).",
  auth: 'token',
  params: StackParams,
  responses: {
    200: {
      description: 'what was unlocked (null: nothing was locked)',
      schema: z.object({ unlocked: z.object({ id: z.string(), who: z.string().nullable() }).nullable() }),
    },
  },
});

export const stackRunOperations = [
  listStackRuns,
  createStackRun,
  getStackRun,
  approveStackRun,
  discardStackRun,
  cancelStackRun,
  getStackRunLogs,
  listStateVersions,
  getStateVersion,
  rollbackStateVersion,
  forceUnlockStack,
];
