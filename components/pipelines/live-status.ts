'use client';
// Run statuses pushed by Socket.IO (the tenant's status events) written into the cached lists: a run that
// starts or finishes changes its row in place; a run the lists do not know yet (started elsewhere) makes
// them read again. The tenant room has no catch-up, so each acknowledged subscription (the first, and after
// a reconnect) reads them again too. Nothing polls.
import { useQueryClient, type InfiniteData, type QueryKey } from '@tanstack/react-query';
import { useCallback, useRef } from 'react';
import type { ServerRunEvent } from '../../lib/events/server-events';
import { isFinishedRunStatus } from '../../lib/runs/statuses';
import { useTenantRunEvents } from '../app/realtime';
import type { Page, RunStatus } from './api';

export interface StatusChange {
  runId: string;
  status: RunStatus;
  time: string;
}

/** Applies a change to one list item; returns the item unchanged when it is not about this run. */
export type ApplyChange<T> = (item: T, change: StatusChange) => T;

/** Events may repeat or arrive late: a finished run stays finished, a running one never goes back to queued. */
export function isLater(current: RunStatus, next: RunStatus): boolean {
  if (isFinishedRunStatus(current) || next === 'queued') return false;
  return !(current === 'running' && next === 'running');
}

function statusChange(event: ServerRunEvent): StatusChange | null {
  if (event.type === 'run.queued') return { runId: event.runId, status: 'queued', time: event.time };
  if (event.type === 'run.started') return { runId: event.runId, status: 'running', time: event.time };
  if (event.type === 'run.finished') return { runId: event.runId, status: event.status, time: event.time };
  return null;
}

export function useLiveRunStatus<T>(tenantId: string | null, listKey: QueryKey, apply: ApplyChange<T>): void {
  const client = useQueryClient();
  // A key is a fresh array on each render: its content decides when the subscription is renewed.
  const keyText = JSON.stringify(listKey);
  // Runs the lists were read again for: once each (an unchanged row, e.g. a repeated event, looks unknown too).
  const reread = useRef(new Set<string>());
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
      if (!known && !reread.current.has(change.runId)) {
        reread.current.add(change.runId);
        void client.invalidateQueries({ queryKey });
      }
    },
    [client, apply, keyText],
  );
  const onSubscribed = useCallback(() => void client.invalidateQueries({ queryKey: JSON.parse(keyText) as QueryKey }), [client, keyText]);
  useTenantRunEvents(tenantId, onEvent, onSubscribed);
}
