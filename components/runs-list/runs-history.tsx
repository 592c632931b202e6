'use client';
// The run history of the tenant: every pipeline's runs, filtered and paged, their statuses kept current from
// Socket.IO events. Runs that start meanwhile are announced, not inserted: the reader's place in the list stays.
import Link from 'next/link';
import { usePathname, useRouter } from 'next/navigation';
import { useCallback, useState } from 'react';
import type { TenantRun } from '../../lib/api/schemas/tenant-runs';
import { errorMessage } from '../app/api-client';
import { usePagedList } from '../app/paged-list';
import { EmptyState, Loading, LoadMore } from '../app/states';
import { useWorkspace } from '../app/workspace';
import { Alert, SECONDARY_BUTTON } from '../forms';
import { LiveIndicator } from './live-indicator';
import { tenantRunsKey, useLiveTenantRuns } from './live-runs';
import { RunFilters, type RunFilterValues } from './run-filters';
import { RunList } from './run-list';

export function RunsHistory({ filters }: { filters: RunFilterValues }) {
  const { tenant } = useWorkspace();
  if (!tenant) {
    return (
      <EmptyState title="No tenant to show">
        Runs live in tenants: organization owners and admins create one in{' '}
        <Link href="/settings" className="font-medium text-blue-700 underline dark:text-blue-300">
          Settings
        </Link>
        .
      </EmptyState>
    );
  }
  // A new set of filters is a new list (and a fresh count of new runs).
  return <FilteredRuns key={JSON.stringify(filters)} tenantId={tenant.id} filters={filters} />;
}

function FilteredRuns({ tenantId, filters }: { tenantId: string; filters: RunFilterValues }) {
  const router = useRouter();
  const pathname = usePathname();
  const runs = usePagedList<TenantRun>([...tenantRunsKey(tenantId), 'history', filters], `/api/v1/tenants/${tenantId}/runs`, { ...filters });
  const [newRuns, setNewRuns] = useState(0);
  const onNewRun = useCallback(() => setNewRuns((count) => count + 1), []);
  const live = useLiveTenantRuns(tenantId, { onNewRun });
  const filtered = Object.values(filters).some(Boolean);

  const apply = (values: RunFilterValues) => {
    const query = new URLSearchParams(Object.entries(values).filter(([, value]) => value !== ''));
    router.replace(query.size > 0 ? `${pathname}?${query}` : pathname);
  };
  const showNew = () => {
    setNewRuns(0);
    void runs.refetch();
  };

  return (
    <>
      <RunFilters tenantId={tenantId} values={filters} onApply={apply} />
      <div className="mb-3">
        <LiveIndicator live={live} />
      </div>
      <div aria-live="polite">
        {newRuns > 0 ? (
          <p className="mb-4 flex flex-wrap items-center gap-3 rounded-md bg-blue-50 px-4 py-3 text-sm text-blue-900 dark:bg-blue-950 dark:text-blue-100">
            {newRuns === 1 ? 'A new run was queued' : `${newRuns} new runs were queued`} since this list was loaded.
            <button type="button" onClick={showNew} className={`${SECONDARY_BUTTON} sm:w-auto`}>
              Show new runs
            </button>
          </p>
        ) : null}
      </div>
      {runs.isPending ? (
        <Loading what="runs" />
      ) : runs.isError ? (
        <Alert error={errorMessage(runs.error)} />
      ) : runs.items.length === 0 ? (
        filtered ? (
          <EmptyState title="No run matches these filters">Clear a filter to see more runs.</EmptyState>
        ) : (
          <EmptyState title="No runs yet">
            A run starts when a pipeline is triggered: open one in{' '}
            <Link href="/pipelines" className="font-medium text-blue-700 underline dark:text-blue-300">
              Pipelines
            </Link>{' '}
            and press “Run pipeline”, or push to its repository.
          </EmptyState>
        )
      ) : (
        <>
          <RunList runs={runs.items} label="Runs" />
          <LoadMore hasMore={runs.hasNextPage} loading={runs.isFetchingNextPage} onClick={() => void runs.fetchNextPage()} />
        </>
      )}
    </>
  );
}
