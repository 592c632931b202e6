'use client';
// The tenant's pipelines with their last run (status and branch), a search box and pages of 20; last-run
// statuses change live from the tenant's events.
import { useInfiniteQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useDeferredValue, useState } from 'react';
import { errorMessage } from '../app/api-client';
import { useWorkspace } from '../app/workspace';
import { Alert } from '../forms';
import { fetchPipelines, pipelineKeys, type PipelineSummary } from './api';
import { useLiveRunStatus, type ApplyChange } from './live-status';
import { NewPipelineButton } from './new-pipeline-button';
import { RunStatusBadge } from './status-badge';
import { FIELD } from './styles';
import { timeAgo } from './time';
import { LoadMore, ListSkeleton } from './list-parts';

const applyToLastRun: ApplyChange<PipelineSummary> = (pipeline, change) =>
  pipeline.lastRun?.id === change.runId ? { ...pipeline, lastRun: { ...pipeline.lastRun, status: change.status } } : pipeline;

export function PipelineList() {
  const { tenant, can } = useWorkspace();
  const [search, setSearch] = useState('');
  const deferredSearch = useDeferredValue(search.trim());
  const tenantId = tenant?.id ?? null;
  const pipelines = useInfiniteQuery({
    queryKey: pipelineKeys.list(tenantId ?? '', deferredSearch),
    queryFn: ({ pageParam }) => fetchPipelines(tenantId!, deferredSearch, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    enabled: tenantId !== null,
  });
  useLiveRunStatus(tenantId, pipelineKeys.lists(tenantId ?? ''), applyToLastRun);

  if (!tenant)
    return (
      <p className="text-slate-700 dark:text-slate-300">You are not a member of any tenant yet: ask an administrator of your organization to add you to one.</p>
    );
  const items = pipelines.data?.pages.flatMap((page) => page.items) ?? [];
  const canCreate = can('pipeline.create');

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h1 className="text-2xl font-semibold tracking-tight">Pipelines</h1>
        {canCreate ? <NewPipelineButton /> : null}
      </div>
      <label className="block max-w-md text-sm font-medium">
        Search pipelines
        <input type="search" value={search} onChange={(event) => setSearch(event.target.value)} placeholder="Name or slug" className={FIELD} />
      </label>
      {pipelines.isPending ? (
        <ListSkeleton label="Loading pipelines" />
      ) : pipelines.isError ? (
        <Alert error={`The pipelines could not be loaded: ${errorMessage(pipelines.error)}`} />
      ) : items.length === 0 ? (
        <EmptyState searching={deferredSearch !== ''} canCreate={canCreate} />
      ) : (
        <>
          <ul className="divide-y divide-slate-200 rounded-md border border-slate-200 bg-white dark:divide-slate-800 dark:border-slate-800 dark:bg-slate-900">
            {items.map((pipeline) => (
              <PipelineRow key={pipeline.id} pipeline={pipeline} />
            ))}
          </ul>
          <LoadMore query={pipelines} />
        </>
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
          className="flex flex-wrap items-center gap-2 text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600"
        >
          <RunStatusBadge status={lastRun.status} />
          <span className="text-slate-700 dark:text-slate-300">
            #{lastRun.number}
            {lastRun.branch ? ` on ${lastRun.branch}` : ''} · {timeAgo(lastRun.createdAt)}
          </span>
        </Link>
      ) : (
        <span className="text-sm text-slate-600 dark:text-slate-400">Never run</span>
      )}
    </li>
  );
}

function EmptyState({ searching, canCreate }: { searching: boolean; canCreate: boolean }) {
  if (searching) return <p className="text-slate-700 dark:text-slate-300">No pipeline matches your search.</p>;
  return (
    <div className="rounded-md border border-dashed border-slate-300 p-6 text-center dark:border-slate-700">
      <h2 className="font-medium">No pipelines yet</h2>
      <p className="mt-1 text-sm text-slate-700 dark:text-slate-300">
        {canCreate
          ? 'Create your first pipeline with New pipeline: a wizard asks for its name, repository, triggers and stages, and shows the KDL it writes.'
          : 'Nobody has created a pipeline in this tenant yet; ask a member who may create pipelines.'}
      </p>
      {canCreate ? (
        <div className="mt-4 flex justify-center">
          <NewPipelineButton />
        </div>
      ) : null}
    </div>
  );
}
