/**
 * Stacks, their variables and environments: request/response schemas and operations (docs/stacks.md).
 * Reads need stack.read; creating, changing and deleting stacks and their variables stack.apply (tenant
 * admins), since a stack's configuration and variables decide what its applies do.
 */
import { z } from 'zod';
import { cronError } from '../../pipeline/cron';
import { BINARY_NAME } from '../../stacks/terraform/binary';
import { versionConstraintError } from '../../stacks/terraform/constraint';
import { ENV_NAME } from '../../pipeline/script-env';
import { defineOperation } from '../operation';
import { Id, PageQuery, Slug, Timestamp, pageOf, refusedWith } from './common';
import { CredentialsSecret, Repository } from './pipelines';
import { StackParams } from './stack-state';
import { TenantParams } from './tenants';

export { StackParams } from './stack-state';

const Cron = z.string().max(200).superRefine(refusedWith(cronError)).meta({ description: 'cron (UTC, 5 fields) of the drift check', example: '0 * * * *' });

const RefName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^(?!-)[^\s~^:?*[\\]+$/, 'a branch or tag name');
const StackPath = z
  .string()
  .min(1)
  .max(500)
  .refine((path) => !path.startsWith('/') && !path.split('/').includes('..'), 'a path inside the repository (no leading `/`, no `..`)');
const TerraformBinaryName = z.string().regex(BINARY_NAME, 'a binary name: letters, digits, ".", "_", "-" (at most 63)').meta({
  description: "one of the workers' named terraform binaries (BUILDIT_TERRAFORM_BINS, docs/stacks.md); null: the worker's default",
  example: 'tofu',
});
const TerraformVersion = z.string().trim().min(1).max(200).superRefine(refusedWith(versionConstraintError)).meta({
  description: "terraform version constraint in Terraform's syntax, met by one of the worker's binaries (docs/stacks.md); null: none",
  example: '~> 1.11',
});
const EnvironmentName = z.string().trim().min(1).max(63).meta({ description: 'the environment this stack manages (created when missing)', example: 'staging' });

const stackSettings = {
  name: z.string().trim().min(1).max(100),
  slug: Slug,
  repository: Repository.nullable().meta({ description: 'clone URL of the configuration; null: the CLI uploads it with each run' }),
  ref: RefName.meta({ description: 'branch checked out for a run' }),
  path: StackPath.meta({ description: 'directory of the configuration in the repository' }),
  credentialsSecret: CredentialsSecret.nullable(),
  autoApply: z.boolean().meta({ description: 'apply a plan with changes without waiting for approval' }),
  terraformBinary: TerraformBinaryName.nullable(),
  terraformVersion: TerraformVersion.nullable(),
  driftSchedule: Cron.nullable(),
  environment: EnvironmentName.nullable(),
};

export const CreateStackBody = z
  .object({
    ...stackSettings,
    slug: Slug.optional(),
    repository: stackSettings.repository.default(null),
    ref: RefName.default('main'),
    path: StackPath.default('.'),
    credentialsSecret: CredentialsSecret.nullable().default(null),
    autoApply: z.boolean().default(false),
    terraformBinary: TerraformBinaryName.nullable().default(null),
    terraformVersion: TerraformVersion.nullable().default(null),
    driftSchedule: Cron.nullable().default(null),
    environment: EnvironmentName.nullable().default(null),
  })
  .strict();

export const UpdateStackBody = z
  .object(stackSettings)
  .partial()
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: 'nothing to update: give at least one field' });

/** An output as BuildIt keeps it: a sensitive one never has its value. */
export const StackOutput = z
  .object({ sensitive: z.boolean(), value: z.unknown().optional().meta({ description: 'absent when sensitive' }) })
  .meta({ id: 'StackOutput' });
const Outputs = z.record(z.string(), StackOutput);

export const StateLockView = z
  .object({
    id: z.string().meta({ description: "terraform's lock ID" }),
    operation: z.string().nullable().meta({ description: '`OperationTypeApply`, `OperationTypePlan`, ...' }),
    who: z.string().nullable().meta({ description: 'user@host terraform reported' }),
    createdAt: Timestamp,
    heldBy: z
      .object({ kind: z.enum(['run', 'user']), runId: Id.nullable(), userId: Id.nullable(), email: z.string().nullable() })
      .meta({ description: 'a run of BuildIt, or the person whose API token took it' }),
  })
  .meta({ id: 'StateLock' });

export const ChangeSummary = z
  .object({ add: z.number().int(), change: z.number().int(), destroy: z.number().int(), replace: z.number().int() })
  .meta({ id: 'ChangeSummary' });

export const STACK_RUN_KINDS = ['plan', 'apply', 'destroy', 'drift'] as const;
export const STACK_RUN_STATUSES = [
  'queued',
  'planning',
  'planned',
  'no_changes',
  'approved',
  'discarded',
  'applying',
  'applied',
  'errored',
  'cancelled',
] as const;

const Person = z.object({ id: Id, email: z.string() }).nullable();

export const StackRunSummary = z
  .object({
    id: Id,
    stackId: Id,
    number: z.number().int(),
    kind: z.enum(STACK_RUN_KINDS),
    status: z.enum(STACK_RUN_STATUSES),
    reason: z.string().nullable().meta({ description: 'why it errored or was cancelled' }),
    event: z.string().meta({ description: 'api | cli | schedule | upstream | pipeline' }),
    triggeredBy: Person,
    triggeredByName: z.string().nullable().meta({ description: 'what started it when not a person: `schedule`, `upstream:<stack run id>`' }),
    approvedBy: Person,
    approvedAt: Timestamp.nullable(),
    commitSha: z.string().nullable(),
    changeSummary: ChangeSummary.nullable(),
    outputs: Outputs.nullable().meta({ description: 'after an apply' }),
    cancelRequestedAt: Timestamp.nullable(),
    createdAt: Timestamp,
    startedAt: Timestamp.nullable(),
    finishedAt: Timestamp.nullable(),
  })
  .meta({ id: 'StackRunSummary' });

const stackFields = {
  id: Id,
  tenantId: Id,
  name: z.string(),
  slug: z.string(),
  repository: z.string().nullable(),
  ref: z.string(),
  path: z.string(),
  credentialsSecret: z.string().nullable(),
  autoApply: z.boolean(),
  terraformBinary: z.string().nullable().meta({ description: "the named terraform binary the stack runs; null: the worker's default" }),
  terraformVersion: z.string().nullable().meta({ description: 'the terraform version constraint the binary must satisfy; null: none' }),
  driftSchedule: z.string().nullable(),
  drifted: z.boolean().meta({ description: 'the last drift check found changes' }),
  driftCheckedAt: Timestamp.nullable(),
  environment: z.object({ id: Id, name: z.string() }).nullable(),
  lock: StateLockView.nullable(),
  lastRun: StackRunSummary.nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
};

export const StackSummary = z.object(stackFields).meta({ id: 'StackSummary' });
export type StackSummary = z.output<typeof StackSummary>;
export const Stack = z
  .object({
    ...stackFields,
    outputs: Outputs.meta({ description: 'outputs of the current state (sensitive ones without value)' }),
    stateVersion: z.number().int().meta({ description: 'number of the current state version (0: no state yet)' }),
  })
  .meta({ id: 'Stack' });
export type Stack = z.output<typeof Stack>;

export const listStacks = defineOperation({
  operationId: 'listStacks',
  method: 'GET',
  path: '/api/v1/tenants/{tenantId}/stacks',
  tag: 'stacks',
  summary: 'List the stacks of a tenant (status, last run, drift, lock holder)',
  auth: 'token',
  params: TenantParams,
  query: PageQuery,
  responses: { 200: { description: 'a page of stacks, newest first', schema: pageOf(StackSummary) } },
});

export const createStack = defineOperation({
  operationId: 'createStack',
  method: 'POST',
  path: '/api/v1/tenants/{tenantId}/stacks',
  tag: 'stacks',
  summary: 'Create a stack',
  auth: 'token',
  params: TenantParams,
  body: CreateStackBody,
  responses: { 201: { description: 'the new stack', schema: Stack } },
});

export const getStack = defineOperation({
  operationId: 'getStack',
  method: 'GET',
  path: '/api/v1/stacks/{stackId}',
  tag: 'stacks',
  summary: 'Get a stack with its outputs and lock holder',
  auth: 'token',
  params: StackParams,
  responses: { 200: { description: 'the stack', schema: Stack } },
});

export const updateStack = defineOperation({
  operationId: 'updateStack',
  method: 'PATCH',
  path: '/api/v1/stacks/{stackId}',
  tag: 'stacks',
  summary: 'Change the settings of a stack',
  auth: 'token',
  params: StackParams,
  body: UpdateStackBody,
  responses: { 200: { description: 'the stack', schema: Stack } },
});

export const deleteStack = defineOperation({
  operationId: 'deleteStack',
  method: 'DELETE',
  path: '/api/v1/stacks/{stackId}',
  tag: 'stacks',
  summary: 'Delete a stack, its runs and state versions',
  description: '409 `stack_busy` while a run is active or the state is locked; 409 `stack_in_use` while another stack takes its outputs.',
  auth: 'token',
  params: StackParams,
  responses: { 204: { description: 'deleted' } },
});

// --- variables -------------------------------------------------------------------------------

export const VariableName = z.string().max(128).regex(ENV_NAME, 'a Terraform variable name: letters, digits and `_`, not starting with a digit');
export const StackVariableParams = z.object({ stackId: Id, name: z.string().min(1).max(128) });

export const SetStackVariableBody = z
  .object({
    value: z
      .string()
      .max(64 * 1024)
      .refine((value) => !value.includes('\0'), 'a value cannot contain a NUL character')
      .optional()
      .meta({ description: 'the value; a sensitive one is write-only (no response contains it)' }),
    hcl: z.boolean().default(false).meta({ description: 'the value is HCL (a list, a map, a number), not a string' }),
    sensitive: z.boolean().default(false),
    source: z
      .object({ stackId: Id, output: z.string().min(1).max(128) })
      .strict()
      .optional()
      .meta({ description: "take the value from another stack's output (read when a run starts; applying that stack queues a plan of this one)" }),
  })
  .strict()
  .refine((body) => (body.value === undefined) !== (body.source === undefined), { message: 'give either `value` or `source`', path: ['value'] });

export const StackVariable = z
  .object({
    name: z.string(),
    hcl: z.boolean(),
    sensitive: z.boolean(),
    value: z.string().nullable().meta({ description: 'null when sensitive or taken from another stack' }),
    source: z.object({ stackId: Id, output: z.string() }).nullable(),
    updatedAt: Timestamp,
  })
  .meta({ id: 'StackVariable' });

export const listStackVariables = defineOperation({
  operationId: 'listStackVariables',
  method: 'GET',
  path: '/api/v1/stacks/{stackId}/variables',
  tag: 'stacks',
  summary: 'List the variables of a stack (sensitive values never)',
  auth: 'token',
  params: StackParams,
  responses: { 200: { description: 'the variables, by name', schema: z.object({ items: z.array(StackVariable) }) } },
});

export const setStackVariable = defineOperation({
  operationId: 'setStackVariable',
  method: 'PUT',
  path: '/api/v1/stacks/{stackId}/variables/{name}',
  tag: 'stacks',
  summary: 'Create or replace a variable of a stack',
  auth: 'token',
  params: StackVariableParams,
  body: SetStackVariableBody,
  responses: {
    200: { description: 'replaced', schema: StackVariable },
    201: { description: 'created', schema: StackVariable },
  },
});

export const deleteStackVariable = defineOperation({
  operationId: 'deleteStackVariable',
  method: 'DELETE',
  path: '/api/v1/stacks/{stackId}/variables/{name}',
  tag: 'stacks',
  summary: 'Delete a variable of a stack',
  auth: 'token',
  params: StackVariableParams,
  responses: { 204: { description: 'deleted' } },
});

// --- environments ----------------------------------------------------------------------------

export const EnvironmentParams = z.object({ environmentId: Id });
export const Environment = z
  .object({
    id: Id,
    tenantId: Id,
    name: z.string(),
    stack: z.object({ id: Id, name: z.string() }).nullable().meta({ description: 'the stack that manages it' }),
    outputs: Outputs.meta({ description: "the stack's outputs after its last apply (sensitive ones without value)" }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Environment' });

export const listEnvironments = defineOperation({
  operationId: 'listEnvironments',
  method: 'GET',
  path: '/api/v1/tenants/{tenantId}/environments',
  tag: 'stacks',
  summary: 'List the environments of a tenant',
  auth: 'token',
  params: TenantParams,
  query: PageQuery,
  responses: { 200: { description: 'a page of environments, newest first', schema: pageOf(Environment) } },
});

export const getEnvironment = defineOperation({
  operationId: 'getEnvironment',
  method: 'GET',
  path: '/api/v1/environments/{environmentId}',
  tag: 'stacks',
  summary: 'Get an environment with its outputs',
  auth: 'token',
  params: EnvironmentParams,
  responses: { 200: { description: 'the environment', schema: Environment } },
});

export const stackOperations = [
  listStacks,
  createStack,
  getStack,
  updateStack,
  deleteStack,
  listStackVariables,
  setStackVariable,
  deleteStackVariable,
  listEnvironments,
  getEnvironment,
];
