'use client';
// The filters of the run history: status, branch and pipeline. A plain form: Enter or "Filter" applies them.
import { useQuery } from '@tanstack/react-query';
import type { PipelineSummary } from '../../lib/api/schemas/pipelines';
import { RUN_STATUSES } from '../../lib/events/types';
import { apiFetch } from '../app/api-client';
import type { Page } from '../app/paged-list';
import { INPUT, PRIMARY_BUTTON } from '../forms';

export interface RunFilterValues {
  status: string;
  branch: string;
  pipelineId: string;
}

/** The pipeline choices: the tenant's first 100 pipelines (the API's largest page). */
function usePipelineChoices(tenantId: string) {
  return useQuery({
    queryKey: ['pipeline-choices', tenantId],
    queryFn: () => apiFetch<Page<PipelineSummary>>(`/api/v1/tenants/${tenantId}/pipelines?limit=100`),
  });
}

export function RunFilters({ tenantId, values, onApply }: { tenantId: string; values: RunFilterValues; onApply: (values: RunFilterValues) => void }) {
  const pipelines = usePipelineChoices(tenantId);
  return (
    <form
      role="search"
      aria-label="Filter runs"
      className="mb-6 grid grid-cols-1 gap-4 sm:grid-cols-[repeat(3,minmax(0,1fr))_auto] sm:items-end"
      onSubmit={(event) => {
        event.preventDefault();
        const form = new FormData(event.currentTarget);
        onApply({
          status: String(form.get('status') ?? ''),
          branch: String(form.get('branch') ?? '').trim(),
          pipelineId: String(form.get('pipelineId') ?? ''),
        });
      }}
    >
      <label className="block text-sm font-medium">
        Status
        <select name="status" defaultValue={values.status} className={INPUT}>
          <option value="">Any status</option>
          {RUN_STATUSES.map((status) => (
            <option key={status} value={status}>
              {status}
            </option>
          ))}
        </select>
      </label>
      <label className="block text-sm font-medium">
        Branch
        <input name="branch" defaultValue={values.branch} placeholder="any branch" className={INPUT} />
      </label>
      <label className="block text-sm font-medium">
        Pipeline
        <select name="pipelineId" defaultValue={values.pipelineId} className={INPUT} key={pipelines.data ? 'loaded' : 'loading'}>
          <option value="">Any pipeline</option>
          {pipelines.data?.items.map((pipeline) => (
            <option key={pipeline.id} value={pipeline.id}>
              {pipeline.name}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" className={`${PRIMARY_BUTTON} sm:w-auto`}>
        Filter
      </button>
    </form>
  );
}
