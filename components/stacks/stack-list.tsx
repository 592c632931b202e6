'use client';
// The tenant's stacks: the last run's status, drift, who holds the state lock; "New stack" for those who may
// create one, and an empty state that says how.
import { useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { errorMessage } from '../app/api-client';
import { usePagedList } from '../app/paged-list';
import { EmptyState, LoadMore, Loading, PageHeader } from '../app/states';
import { useWorkspace } from '../app/workspace';
import { Alert } from '../forms';
import { BUTTON } from '../pipelines/styles';
import { formatTime } from '../runs-list/format';
import { stackHref, stackKeys, stackPaths, stackRunHref, type StackSummary } from './api';
import { useStackRunEvents } from './live';
import { lockHolder } from './lock-holder';
import { NewStackForm } from './new-stack-form';
import { DriftBadge, StackRunStatusBadge } from './status-badge';

export function StackList() {
  const { tenant, can } = useWorkspace();
  const [creating, setCreating] = useState(false);
  const stacks = usePagedList<StackSummary>(stackKeys.list(tenant?.id ?? ''), stackPaths.list(tenant?.id ?? ''), {}, tenant !== null);
  const canCreate = can('stack.apply');
  const queryClient = useQueryClient();
  // A run that changed status (or one the list does not show yet) changes the list.
  useStackRunEvents({
    onEvent: (event) => {
      const shown = stacks.items.find((stack) => stack.id === event.stackId)?.lastRun;
      if (shown?.id !== event.stackRunId || shown.status !== event.status) void queryClient.invalidateQueries({ queryKey: stackKeys.list(tenant?.id ?? '') });
    },
    onSubscribed: () => void queryClient.invalidateQueries({ queryKey: stackKeys.list(tenant?.id ?? '') }),
  });
  const newButton = canCreate ? (
    <button type="button" aria-expanded={creating} onClick={() => setCreating(!creating)} className={BUTTON.primary}>
      New stack
    </button>
  ) : null;

  return (
    <>
      <PageHeader
        title="Stacks"
        description="Terraform configurations whose plans are reviewed and approved here before they are applied."
        actions={newButton}
      />
      {creating && tenant ? (
        <div className="mb-6">
          <NewStackForm tenantId={tenant.id} onCancel={() => setCreating(false)} />
        </div>
      ) : null}
      {!tenant ? (
        <Alert error="You are not a member of any tenant yet: ask an administrator of your organization to add you to one." />
      ) : stacks.isPending ? (
        <Loading what="stacks" />
      ) : stacks.isError ? (
        <Alert error={`The stacks could not be loaded: ${errorMessage(stacks.error)}`} />
      ) : stacks.items.length === 0 ? (
        <EmptyState title="No stacks yet">
          {canCreate ? (
            <>
              Create one with New stack: give it a repository, branch and path, or let the CLI upload the configuration with{' '}
              <code>buildit stacks create --name NAME</code>, then <code>buildit stacks plan STACK DIR</code>.
            </>
          ) : (
            <>
              Nobody has created a stack in this tenant yet; a tenant admin can, here or with <code>buildit stacks create --name NAME</code>.
            </>
          )}
        </EmptyState>
      ) : (
        <>
          <ul className="divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white dark:divide-slate-800 dark:border-slate-800 dark:bg-slate-900">
            {stacks.items.map((stack) => (
              <StackRow key={stack.id} stack={stack} />
            ))}
          </ul>
          <LoadMore hasMore={stacks.hasNextPage} loading={stacks.isFetchingNextPage} onClick={() => void stacks.fetchNextPage()} />
        </>
      )}
    </>
  );
}

function StackRow({ stack }: { stack: StackSummary }) {
  const { lastRun, lock } = stack;
  return (
    <li className="flex flex-wrap items-center justify-between gap-x-4 gap-y-2 px-4 py-3" data-stack={stack.slug}>
      <div className="min-w-0">
        <div className="flex flex-wrap items-center gap-2">
          <Link
            href={stackHref(stack.id)}
            className="font-medium text-blue-700 underline-offset-2 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 dark:text-blue-300"
          >
            {stack.name}
          </Link>
          {stack.drifted ? <DriftBadge /> : null}
        </div>
        <p className="truncate text-sm text-slate-600 dark:text-slate-400">
          {stack.repository ? `${stack.repository} · ${stack.ref} · ${stack.path}` : 'configuration uploaded by the CLI'}
          {stack.environment ? ` · ${stack.environment.name}` : ''}
        </p>
        {lock ? <p className="text-sm text-amber-800 dark:text-amber-300">Locked by {lockHolder(lock)}</p> : null}
      </div>
      {lastRun ? (
        <Link
          href={stackRunHref(lastRun.id)}
          className="flex flex-wrap items-center gap-2 text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600"
        >
          <span className="sr-only">Last run</span>
          <StackRunStatusBadge status={lastRun.status} />
          <span className="text-slate-700 dark:text-slate-300">
            #{lastRun.number} {lastRun.kind} · {formatTime(lastRun.createdAt)}
          </span>
        </Link>
      ) : (
        <span className="text-sm text-slate-600 dark:text-slate-400">Never run</span>
      )}
    </li>
  );
}
