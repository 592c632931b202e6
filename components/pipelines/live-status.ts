'use client';
// Run statuses pushed by Socket.IO (the tenant's status events) written into the cached lists: a run that
// starts or finishes changes its row in place; a run the lists do not know yet (started elsewhere) makes
// them read again, once per such run. Nothing polls.
import { useQueryClient, type InfiniteData, type QueryKey } from '@tanstack/react-query';
import { useCallback } from 'react';
import type { ServerRunEvent } from '../../lib/events/server-events';
import { useTenantRunEvents } from '../app/realtime';
import type { Page, RunStatus } from './api';

export interface StatusChange {
  runId: string;
  status: RunStatus;
  time: string;
}

/** Applies a change to one list item; returns the item unchanged when it is not about this run. */
export type ApplyChange<T> = (item: T, change: StatusChange) => T;

function statusChange(event: ServerRunEvent): StatusChange | null {
  if (event.type === 'run.started') return { runId: event.runId, status: 'running', time: event.time };
  if (event.type === 'run.finished') return { runId: event.runId, status: event.status, time: event.time };
  return null;
}

export function useLiveRunStatus<T>(tenantId: string | null, listKey: QueryKey, apply: ApplyChange<T>): void {
  const client = useQueryClient();
  // A key is a fresh array on each render: its content decides when the subscription is renewed.
  const keyText = JSON.stringify(listKey);
  const onEvent = useCallback(
    (event: ServerRunEvent) => {
      const change = statusChange(event);
      if (!change) return;
      let known = false;
      const queryKey = JSON.parse(keyText) as QueryKey;
      client.setQueriesData<InfiniteData<Page<T>>>({ queryKey }, (data) =>
        data
          ? {
              ...data,
              pages: data.pages.map((page) => ({
                ...page,
                items: page.items.map((item) => {
                  const next = apply(item, change);
                  if (next !== item) known = true;
                  return next;
                }),
              })),
            }
          : data,
      );
      if (!known && event.type === 'run.started') void client.invalidateQueries({ queryKey });
    },
    [client, apply, keyText],
  );
  useTenantRunEvents(tenantId, onEvent);
}
