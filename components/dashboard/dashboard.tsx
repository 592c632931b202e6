'use client';
// The dashboard: today's figures of the tenant, the organization's queue, and the recent runs, all read once and
// then kept current from Socket.IO run events written into the query cache (no polling). Each subscription
// (page load, reconnect) reads them again; a run that starts after that costs one request for the recent runs;
// every other event costs none.
import Link from 'next/link';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useState } from 'react';
import type { TenantSummary } from '../../lib/api/schemas/summary';
import type { TenantRun } from '../../lib/api/schemas/tenant-runs';
import type { ServerRunEvent } from '../../lib/events/server-events';
import { apiFetch, errorMessage } from '../app/api-client';
import { usePagedList } from '../app/paged-list';
import { useWorkspace } from '../app/workspace';
import { EmptyState, Loading, Section } from '../app/states';
import { Alert, SECONDARY_BUTTON } from '../forms';
import { RunList } from '../runs-list/run-list';
import { tenantRunsKey, useLiveTenantRuns } from '../runs-list/live-runs';
import { applyToSummary } from './live-summary';
import { OrganizationStats, TenantStats } from './stats';

const RECENT_RUNS = 10;

function startOfToday(): string {
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  return midnight.toISOString();
}

/** The dashboard of the tenant the user works in, or how to get one. */
export function Dashboard() {
  const { tenant } = useWorkspace();
  if (!tenant) {
    return (
      <EmptyState title="No tenant to show">
        Runs live in tenants. Organization owners and admins create the first one in{' '}
        <Link href="/settings" className="font-medium text-blue-700 underline dark:text-blue-300">
          Settings
        </Link>
        ; anyone else, ask one of them for a role in a tenant.
      </EmptyState>
    );
  }
  return <TenantDashboard tenantId={tenant.id} />;
}

function TenantDashboard({ tenantId }: { tenantId: string }) {
  const queryClient = useQueryClient();
  const [since] = useState(startOfToday);
  const summary = useQuery({
    queryKey: ['tenant-summary', tenantId, since],
    queryFn: () => apiFetch<TenantSummary>(`/api/v1/tenants/${tenantId}/summary?since=${encodeURIComponent(since)}`),
  });
  const recentKey = [...tenantRunsKey(tenantId), 'recent'];
  const recent = usePagedList<TenantRun>(recentKey, `/api/v1/tenants/${tenantId}/runs`, { limit: String(RECENT_RUNS) });

  const onEvent = useCallback(
    (event: ServerRunEvent) => queryClient.setQueryData<TenantSummary>(['tenant-summary', tenantId, since], (data) => data && applyToSummary(data, event)),
    [queryClient, tenantId, since],
  );
  // One refetch however many events of new runs arrive while it is under way.
  const onNewRun = useCallback(
    () => void queryClient.refetchQueries({ queryKey: [...tenantRunsKey(tenantId), 'recent'] }, { cancelRefetch: false }),
    [queryClient, tenantId],
  );
  const onSubscribed = useCallback(() => void queryClient.invalidateQueries({ queryKey: ['tenant-summary', tenantId, since] }), [queryClient, tenantId, since]);
  useLiveTenantRuns(tenantId, { onEvent, onNewRun, onSubscribed });

  return (
    <>
      <Section title="Today" description="Runs of this tenant since midnight, updated live.">
        {summary.isPending ? (
          <Loading what="today's figures" />
        ) : summary.isError ? (
          <Alert error={errorMessage(summary.error)} />
        ) : (
          <TenantStats summary={summary.data} />
        )}
      </Section>
      <Section title="Queue and workers" description="The queue and the workers are shared by every tenant of the organization.">
        {summary.isPending ? (
          <Loading what="the queue" />
        ) : summary.isError ? (
          <Alert error={errorMessage(summary.error)} />
        ) : (
          <>
            <OrganizationStats summary={summary.data} readAt={summary.dataUpdatedAt} />
            <button type="button" onClick={() => void summary.refetch()} disabled={summary.isFetching} className={`${SECONDARY_BUTTON} mt-4 sm:w-auto`}>
              {summary.isFetching ? 'Refreshing…' : 'Refresh figures'}
            </button>
          </>
        )}
      </Section>
      <Section title="Recent runs" description="The newest runs of every pipeline of this tenant, updated live.">
        {recent.isPending ? (
          <Loading what="recent runs" />
        ) : recent.isError ? (
          <Alert error={errorMessage(recent.error)} />
        ) : recent.items.length === 0 ? (
          <EmptyState title="No runs yet">
            Runs appear here as they start. Open a pipeline in{' '}
            <Link href="/pipelines" className="font-medium text-blue-700 underline dark:text-blue-300">
              Pipelines
            </Link>{' '}
            and press “Run pipeline”, or create your first pipeline with “New pipeline” there.
          </EmptyState>
        ) : (
          <>
            <RunList runs={recent.items} label="Recent runs" />
            <p className="mt-3 text-sm">
              <Link href="/runs" className="font-medium text-blue-700 underline dark:text-blue-300">
                All runs
              </Link>
            </p>
          </>
        )}
      </Section>
    </>
  );
}
