// The stack pages' reads, writes and query keys in one place, so mutations invalidate what the pages read.
// Types are the API's own (lib/api/schemas/stacks.ts, stack-runs.ts).
import type { z } from 'zod';
import type * as runSchemas from '../../lib/api/schemas/stack-runs';
import type * as schemas from '../../lib/api/schemas/stacks';
import { apiFetch } from '../app/api-client';

export type Stack = z.output<typeof schemas.Stack>;
export type StackSummary = z.output<typeof schemas.StackSummary>;
export type StackRunSummary = z.output<typeof schemas.StackRunSummary>;
export type StackRun = z.output<typeof runSchemas.StackRun>;
export type StackVariable = z.output<typeof schemas.StackVariable>;
export type StackOutput = z.output<typeof schemas.StackOutput>;
export type StateVersionSummary = z.output<typeof runSchemas.StateVersionSummary>;
export type StateVersion = z.output<typeof runSchemas.StateVersion>;
export type Environment = z.output<typeof schemas.Environment>;
export type StackRunLogs = z.output<typeof runSchemas.StackRunLogs>;
export type StackRunStatus = StackRunSummary['status'];
export type PlanResource = NonNullable<StackRun['plan']>['resources'][number];

export const stackKeys = {
  list: (tenantId: string) => ['stacks', tenantId] as const,
  one: (stackId: string) => ['stack', stackId] as const,
  runs: (stackId: string) => ['stack', stackId, 'runs'] as const,
  variables: (stackId: string) => ['stack', stackId, 'variables'] as const,
  versions: (stackId: string) => ['stack', stackId, 'state-versions'] as const,
  version: (versionId: string) => ['state-version', versionId] as const,
  run: (runId: string) => ['stack-run', runId] as const,
  log: (runId: string) => ['stack-run', runId, 'log'] as const,
  environments: (tenantId: string) => ['environments', tenantId] as const,
};

const id = encodeURIComponent;

/** Log chunks read per request (the API's largest page). */
export const LOG_PAGE = 1000;

export const stackPaths = {
  list: (tenantId: string) => `/api/v1/tenants/${id(tenantId)}/stacks`,
  one: (stackId: string) => `/api/v1/stacks/${id(stackId)}`,
  runs: (stackId: string) => `/api/v1/stacks/${id(stackId)}/runs`,
  variables: (stackId: string) => `/api/v1/stacks/${id(stackId)}/variables`,
  variable: (stackId: string, name: string) => `/api/v1/stacks/${id(stackId)}/variables/${id(name)}`,
  versions: (stackId: string) => `/api/v1/stacks/${id(stackId)}/state-versions`,
  version: (versionId: string) => `/api/v1/state-versions/${id(versionId)}`,
  rollback: (versionId: string) => `/api/v1/state-versions/${id(versionId)}/rollback`,
  lock: (stackId: string) => `/api/v1/stacks/${id(stackId)}/lock`,
  run: (runId: string) => `/api/v1/stack-runs/${id(runId)}`,
  runAction: (runId: string, action: 'approve' | 'discard' | 'cancel') => `/api/v1/stack-runs/${id(runId)}/${action}`,
  log: (runId: string, after: number) => `/api/v1/stack-runs/${id(runId)}/logs?after=${after}&limit=${LOG_PAGE}`,
  environments: (tenantId: string) => `/api/v1/tenants/${id(tenantId)}/environments`,
};

/** The page of a stack run: the plan review. Every link to a run goes here. */
export const stackRunHref = (runId: string) => `/stacks/runs/${id(runId)}`;
export const stackHref = (stackId: string) => `/stacks/${id(stackId)}`;
/** The page of one state version (app/(app)/stacks/state/[stateVersionId]). */
export const stateVersionHref = (versionId: string) => `/stacks/state/${id(versionId)}`;

export const fetchStack = (stackId: string) => apiFetch<Stack>(stackPaths.one(stackId));
export const fetchStackRun = (runId: string) => apiFetch<StackRun>(stackPaths.run(runId));
export const fetchVariables = (stackId: string) => apiFetch<{ items: StackVariable[] }>(stackPaths.variables(stackId));

const FINISHED: readonly StackRunStatus[] = ['no_changes', 'discarded', 'applied', 'errored', 'cancelled'];
/** Waiting for a person: nothing changes until someone approves, discards or cancels. */
export const isWaiting = (status: StackRunStatus) => status === 'planned';
export const isFinished = (status: StackRunStatus) => FINISHED.includes(status);
/** The worker is at it (or about to be): the page follows it. */
export const isActive = (status: StackRunStatus) => !isFinished(status) && !isWaiting(status);
