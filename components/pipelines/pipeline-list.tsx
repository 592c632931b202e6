'use client';
// The tenant's pipelines with their last run (status and branch), a search box and pages of 20; last-run
// statuses change live from the tenant's events.
import Link from 'next/link';
import { useDeferredValue, useId, useState } from 'react';
import { errorMessage } from '../app/api-client';
import { usePagedList } from '../app/paged-list';
import { EmptyState, LoadMore, Loading, PageHeader } from '../app/states';
import { useWorkspace } from '../app/workspace';
import { Alert, INPUT } from '../forms';
import { formatTime } from '../runs-list/format';
import { RunStatusBadge } from '../runs-list/run-status';
import { pipelineKeys, pipelinesPath, type PipelineSummary } from './api';
import { isLater, useLiveRunStatus, type ApplyChange } from './live-status';
import { NewPipelineButton } from './new-pipeline-button';

const applyToLastRun: ApplyChange<PipelineSummary> = (pipeline, change) =>
  pipeline.lastRun?.id === change.runId && isLater(pipeline.lastRun.status, change.status)
    ? { ...pipeline, lastRun: { ...pipeline.lastRun, status: change.status } }
    : pipeline;

export function PipelineList() {
  const { tenant, can } = useWorkspace();
  const searchId = useId();
  const [search, setSearch] = useState('');
  const query = useDeferredValue(search.trim());
  const tenantId = tenant?.id ?? '';
  const pipelines = usePagedList<PipelineSummary>(pipelineKeys.list(tenantId, query), pipelinesPath(tenantId), { q: query }, tenant !== null);
  useLiveRunStatus(tenant?.id ?? null, pipelineKeys.lists(tenantId), applyToLastRun);
  const canCreate = can('pipeline.create');

  return (
    <div>
      <PageHeader
        title="Pipelines"
        description="Each pipeline with its last run."
        actions={canCreate && pipelines.items.length > 0 ? <NewPipelineButton /> : null}
      />
      {!tenant ? (
        <EmptyState title="No tenant">You are not a member of any tenant yet: ask an administrator of your organization to add you to one.</EmptyState>
      ) : (
        <div className="space-y-4">
          <div className="max-w-md">
            <label htmlFor={searchId} className="block text-sm font-medium">
              Search pipelines
            </label>
            <input
              id={searchId}
              type="search"
              value={search}
              onChange={(event) => setSearch(event.target.value)}
              placeholder="Name or slug"
              className={INPUT}
            />
          </div>
          {pipelines.isPending ? (
            <Loading what="pipelines" />
          ) : pipelines.isError ? (
            <Alert error={`The pipelines could not be loaded: ${errorMessage(pipelines.error)}`} />
          ) : pipelines.items.length === 0 ? (
            query !== '' ? (
              <EmptyState title="No pipeline matches your search." />
            ) : (
              <EmptyState title="No pipelines yet">
                {canCreate ? (
                  <>
                    <p>
                      Create your first pipeline with New pipeline: a wizard asks for its name, repository, triggers and stages, and shows the KDL it writes.
                    </p>
                    <div className="mt-4 flex justify-center">
                      <NewPipelineButton />
                    </div>
                  </>
                ) : (
                  <p>Nobody has created a pipeline in this tenant yet; ask a member who may create pipelines.</p>
                )}
              </EmptyState>
            )
          ) : (
            <>
              <ul
                aria-label="Pipelines"
                className="divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white dark:divide-slate-800 dark:border-slate-800 dark:bg-slate-900"
              >
                {pipelines.items.map((pipeline) => (
                  <PipelineRow key={pipeline.id} pipeline={pipeline} />
                ))}
              </ul>
              <LoadMore hasMore={pipelines.hasNextPage} loading={pipelines.isFetchingNextPage} onClick={() => void pipelines.fetchNextPage()} />
            </>
          )}
        </div>
      )}
    </div>
  );
}

function PipelineRow({ pipeline }: { pipeline: PipelineSummary }) {
  const { lastRun } = pipeline;
  return (
    <li className="flex flex-wrap items-center justify-between gap-x-4 gap-y-2 px-4 py-3">
      <div className="min-w-0">
        <Link
          href={`/pipelines/${pipeline.id}`}
          className="font-medium text-blue-700 underline-offset-2 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 dark:text-blue-300"
        >
          {pipeline.name}
        </Link>
        <p className="truncate text-sm text-slate-600 dark:text-slate-400">
          {pipeline.slug}
          {pipeline.repository ? ` · ${pipeline.repository}` : ''}
        </p>
      </div>
      {lastRun ? (
        <Link
          href={`/runs/${lastRun.id}`}
          prefetch={false}
          className="flex flex-wrap items-center gap-2 text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600"
        >
          <RunStatusBadge status={lastRun.status} />
          <span className="text-slate-700 dark:text-slate-300">
            #{lastRun.number}
            {lastRun.branch ? ` on ${lastRun.branch}` : ''} · <time dateTime={lastRun.createdAt}>{formatTime(lastRun.createdAt)}</time>
          </span>
        </Link>
      ) : (
        <span className="text-sm text-slate-600 dark:text-slate-400">Never run</span>
      )}
    </li>
  );
}
