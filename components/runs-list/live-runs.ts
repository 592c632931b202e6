'use client';
// Lists of the tenant's runs kept current from Socket.IO status events (components/app/realtime.tsx): each event
// is written into the cached pages of every runs list of the tenant (query keys under tenantRunsKey), so a
// status changes on screen with no request. A run no list has yet is reported once, for the page to decide
// whether to fetch it (the dashboard) or to offer to (the runs history).
import { useQueryClient, type InfiniteData, type QueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { TenantRun } from '../../lib/api/schemas/tenant-runs';
import type { ServerRunEvent } from '../../lib/events/server-events';
import { useSocket, useTenantRunEvents } from '../app/realtime';
import type { Page } from '../app/paged-list';

/** Every runs list of a tenant lives under this key. */
export const tenantRunsKey = (tenantId: string) => ['tenant-runs', tenantId] as const;

/** The run as the event leaves it; events repeat and may arrive late, so a finished run stays finished. */
export function applyRunEvent(run: TenantRun, event: ServerRunEvent): TenantRun {
  if (run.finishedAt !== null) return run;
  switch (event.type) {
    case 'run.started':
      return { ...run, status: 'running', startedAt: run.startedAt ?? event.time };
    case 'run.finished':
      return { ...run, status: event.status, startedAt: run.startedAt ?? event.time, finishedAt: event.time };
    case 'stage.started':
      return run.status === 'queued' ? { ...run, status: 'running', startedAt: run.startedAt ?? event.time } : run;
    default:
      return run;
  }
}

/** Writes the event into every cached runs list of the tenant; false when none holds the run. */
function patchCachedRuns(queryClient: QueryClient, tenantId: string, event: ServerRunEvent): boolean {
  let found = false;
  queryClient.setQueriesData<InfiniteData<Page<TenantRun>>>({ queryKey: tenantRunsKey(tenantId) }, (data) => {
    if (!data) return data;
    let changed = false;
    const pages = data.pages.map((page) => {
      if (!page.items.some((run) => run.id === event.runId)) return page;
      found = true;
      const items = page.items.map((run) => (run.id === event.runId ? applyRunEvent(run, event) : run));
      changed ||= items.some((run, index) => run !== page.items[index]);
      return { ...page, items };
    });
    return changed ? { ...data, pages } : data;
  });
  return found;
}

/**
 * Follows the tenant's run events while mounted. `onEvent` sees every event; `onNewRun` is called once per run
 * that no cached list holds (a run created since the lists were read). The tenant room has no catch-up, so each
 * acknowledged subscription (the first, and again after a reconnect) reads the lists again and calls
 * `onSubscribed` for the page's other queries: an event sent before it is not lost. Returns whether events are
 * arriving now (subscribed, and connected since).
 */
export function useLiveTenantRuns(
  tenantId: string | null,
  { onEvent, onNewRun, onSubscribed }: { onEvent?: (event: ServerRunEvent) => void; onNewRun?: (runId: string) => void; onSubscribed?: () => void },
): boolean {
  const queryClient = useQueryClient();
  const socket = useSocket();
  const [live, setLive] = useState(false);
  useEffect(() => {
    if (!socket) return;
    const lost = () => setLive(false);
    socket.on('disconnect', lost);
    return () => {
      socket.off('disconnect', lost);
    };
  }, [socket]);
  const reported = useRef(new Set<string>());
  const handle = useCallback(
    (event: ServerRunEvent) => {
      if (!tenantId) return;
      onEvent?.(event);
      if (!patchCachedRuns(queryClient, tenantId, event) && !reported.current.has(event.runId)) {
        reported.current.add(event.runId);
        onNewRun?.(event.runId);
      }
    },
    [queryClient, tenantId, onEvent, onNewRun],
  );
  const subscribed = useCallback(() => {
    if (!tenantId) return;
    setLive(true);
    void queryClient.invalidateQueries({ queryKey: tenantRunsKey(tenantId) });
    onSubscribed?.();
  }, [queryClient, tenantId, onSubscribed]);
  useTenantRunEvents(tenantId, handle, subscribed);
  return live;
}
