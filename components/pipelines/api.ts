// The pipeline pages' reads, paths and query keys: one place, so realtime updates and mutations write the same
// cache entries the lists read.
import type { Pipeline, PipelineSummary } from '../../lib/api/schemas/pipelines';
import type { Run, RunSummary } from '../../lib/api/schemas/runs';
import type { RunStatus } from '../../lib/events/types';
import { apiFetch } from '../app/api-client';
import type { Page } from '../app/paged-list';

export type { Page, Pipeline, PipelineSummary, Run, RunSummary, RunStatus };

/** A type, not an interface: it is passed as the list's query parameters (a string record). */
export type RunFilters = {
  status: RunStatus | '';
  branch: string;
};

export const pipelineKeys = {
  /** Every pipeline list of a tenant, whatever its search. */
  lists: (tenantId: string) => ['pipelines', tenantId] as const,
  list: (tenantId: string, search: string) => ['pipelines', tenantId, search] as const,
  one: (pipelineId: string) => ['pipeline', pipelineId] as const,
  /** Every runs list of a pipeline, whatever its filters. */
  runs: (pipelineId: string) => ['pipeline-runs', pipelineId] as const,
  runsFiltered: (pipelineId: string, filters: RunFilters) => ['pipeline-runs', pipelineId, filters] as const,
};

export const fetchPipeline = (pipelineId: string) => apiFetch<Pipeline>(`/api/v1/pipelines/${pipelineId}`);

export const pipelinesPath = (tenantId: string) => `/api/v1/tenants/${tenantId}/pipelines`;
export const runsPath = (pipelineId: string) => `/api/v1/pipelines/${pipelineId}/runs`;
