// The pipeline pages' reads and their query keys: one place, so realtime updates and mutations write the same
// cache entries the lists read.
import type { Pipeline, PipelineSummary } from '../../lib/api/schemas/pipelines';
import type { Run, RunSummary } from '../../lib/api/schemas/runs';
import type { RunStatus } from '../../lib/events/types';
import { apiFetch } from '../app/api-client';

export type { Pipeline, PipelineSummary, Run, RunSummary, RunStatus };

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface RunFilters {
  status: RunStatus | '';
  branch: string;
}

export const pipelineKeys = {
  /** Every pipeline list of a tenant, whatever its search. */
  lists: (tenantId: string) => ['pipelines', tenantId] as const,
  list: (tenantId: string, search: string) => ['pipelines', tenantId, search] as const,
  one: (pipelineId: string) => ['pipeline', pipelineId] as const,
  /** Every runs list of a pipeline, whatever its filters. */
  runs: (pipelineId: string) => ['pipeline-runs', pipelineId] as const,
  runsFiltered: (pipelineId: string, filters: RunFilters) => ['pipeline-runs', pipelineId, filters] as const,
};

function query(params: Record<string, string | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const fetchPipelines = (tenantId: string, search: string, cursor: string | null) =>
  apiFetch<Page<PipelineSummary>>(`/api/v1/tenants/${tenantId}/pipelines${query({ q: search.trim(), cursor })}`);

export const fetchPipeline = (pipelineId: string) => apiFetch<Pipeline>(`/api/v1/pipelines/${pipelineId}`);

export const fetchRuns = (pipelineId: string, filters: RunFilters, cursor: string | null) =>
  apiFetch<Page<RunSummary>>(`/api/v1/pipelines/${pipelineId}/runs${query({ status: filters.status, branch: filters.branch.trim(), cursor })}`);
