/** The runs of every pipeline of a tenant (the web app's run history and dashboard): schemas and operation. */
import { z } from 'zod';
import { RUN_STATUSES } from '../../events/types';
import { defineOperation } from '../operation';
import { Id, PageQuery, pageOf } from './common';
import { BranchName } from './pipelines';
import { RunSummary } from './runs';
import { TenantParams } from './tenants';

export const ListTenantRunsQuery = PageQuery.extend({
  status: z.enum(RUN_STATUSES).optional().meta({ description: 'only runs in this status' }),
  branch: BranchName.optional().meta({ description: 'only runs of this branch' }),
  pipelineId: Id.optional().meta({ description: 'only runs of this pipeline of the tenant' }),
});

/** A run with the pipeline it belongs to, which a list across pipelines needs to say. */
export const TenantRun = z.object({
  ...RunSummary.shape,
  pipeline: z.object({ id: Id, name: z.string(), slug: z.string() }),
});
export type TenantRun = z.output<typeof TenantRun>;

export const listTenantRuns = defineOperation({
  operationId: 'listTenantRuns',
  method: 'GET',
  path: '/api/v1/tenants/{tenantId}/runs',
  tag: 'runs',
  summary: 'List the runs of every pipeline of a tenant, newest first',
  description: 'Filters combine: `status`, `branch` and `pipelineId` (a pipeline of another tenant matches nothing).',
  auth: 'token',
  params: TenantParams,
  query: ListTenantRunsQuery,
  responses: { 200: { description: 'a page of runs, each with its pipeline', schema: pageOf(TenantRun) } },
});

export const tenantRunOperations = [listTenantRuns];
