'use client';
// A pipeline's runs, newest first, filtered by status and branch (the API's ?status=&branch=), in pages of
// 20; statuses change live from the tenant's events.
import Link from 'next/link';
import { useDeferredValue, useId, useState } from 'react';
import { RUN_STATUSES } from '../../lib/events/types';
import { errorMessage } from '../app/api-client';
import { usePagedList } from '../app/paged-list';
import { EmptyState, LoadMore, Loading } from '../app/states';
import { Alert, INPUT } from '../forms';
import { formatDuration, formatTime, runDurationMs } from '../runs-list/format';
import { RunStatusBadge } from '../runs-list/run-status';
import { pipelineKeys, runsPath, type RunFilters, type RunStatus, type RunSummary } from './api';
import { isLater, useLiveRunStatus, type ApplyChange } from './live-status';
import { ColumnHeaders } from '../table';

const applyToRun: ApplyChange<RunSummary> = (run, change) => {
  if (run.id !== change.runId || !isLater(run.status, change.status)) return run;
  const startedAt = run.startedAt ?? change.time;
  return change.status === 'running' ? { ...run, status: 'running', startedAt } : { ...run, status: change.status, startedAt, finishedAt: change.time };
};

export function RunsSection({ pipelineId, tenantId }: { pipelineId: string; tenantId: string }) {
  const fieldId = useId();
  const [status, setStatus] = useState<RunStatus | ''>('');
  const [branch, setBranch] = useState('');
  const filters: RunFilters = { status, branch: useDeferredValue(branch.trim()) };
  const runs = usePagedList<RunSummary>(pipelineKeys.runsFiltered(pipelineId, filters), runsPath(pipelineId), filters);
  useLiveRunStatus(tenantId, pipelineKeys.runs(pipelineId), applyToRun);
  const items = runs.items;
  const filtered = filters.status !== '' || filters.branch !== '';

  return (
    <div className="space-y-3">
      <div className="flex flex-wrap gap-3">
        <div>
          <label htmlFor={`${fieldId}-status`} className="block text-sm font-medium">
            Status
          </label>
          <select id={`${fieldId}-status`} value={status} onChange={(event) => setStatus(event.target.value as RunStatus | '')} className={INPUT}>
            <option value="">All statuses</option>
            {RUN_STATUSES.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={`${fieldId}-branch`} className="block text-sm font-medium">
            Branch filter
          </label>
          <input
            id={`${fieldId}-branch`}
            type="search"
            value={branch}
            onChange={(event) => setBranch(event.target.value)}
            placeholder="e.g. main"
            className={INPUT}
          />
        </div>
      </div>
      {runs.isPending ? (
        <Loading what="runs" />
      ) : runs.isError ? (
        <Alert error={`The runs could not be loaded: ${errorMessage(runs.error)}`} />
      ) : items.length === 0 ? (
        <EmptyState title={filtered ? 'No run matches these filters.' : 'No runs yet'}>
          {filtered ? null : <p>Start the first one with Run pipeline.</p>}
        </EmptyState>
      ) : (
        <>
          <div className="overflow-x-auto rounded-md border border-slate-200 dark:border-slate-800">
            <table className="min-w-full divide-y divide-slate-200 bg-white text-sm dark:divide-slate-800 dark:bg-slate-900">
              <caption className="sr-only">Runs of this pipeline, newest first</caption>
              <ColumnHeaders columns={['Run', 'Status', 'Branch', 'Event', 'Created', 'Duration']} />
              <tbody className="divide-y divide-slate-200 dark:divide-slate-800">
                {items.map((run) => (
                  <tr key={run.id}>
                    <td className="px-3 py-2">
                      <Link
                        href={`/runs/${run.id}`}
                        className="font-medium text-blue-700 underline-offset-2 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 dark:text-blue-300"
                      >
                        #{run.number}
                      </Link>
                    </td>
                    <td className="px-3 py-2">
                      <RunStatusBadge status={run.status} />
                    </td>
                    <td className="px-3 py-2">{run.branch ?? run.tag ?? '—'}</td>
                    <td className="px-3 py-2">{run.event}</td>
                    <td className="whitespace-nowrap px-3 py-2">
                      <time dateTime={run.createdAt}>{formatTime(run.createdAt)}</time>
                    </td>
                    <td className="px-3 py-2 tabular-nums">{run.finishedAt ? formatDuration(runDurationMs(run)) : run.startedAt ? 'running' : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <LoadMore hasMore={runs.hasNextPage} loading={runs.isFetchingNextPage} onClick={() => void runs.fetchNextPage()} />
        </>
      )}
    </div>
  );
}
