'use client';
// Stack runs as they change, over the tab's Socket.IO connection (docs/realtime.md, `stack_run.event`): the
// worker announces each stored status and log chunk to the tenant's room; pages re-read what changed from
// the REST API. After each (re)subscription the page re-reads once, for what happened while it was not
// subscribed. Nothing polls.
import { useCallback, useEffect, useRef } from 'react';
import { STACK_RUN_EVENT, type StackRunEvent } from '../../lib/realtime/protocol';
import { useSocket, useTenantRoom } from '../app/realtime';
import { useWorkspace } from '../app/workspace';

export type { StackRunEvent };

export interface StackRunListener {
  onEvent: (event: StackRunEvent) => void;
  /** Subscribed (again): re-read what the page shows. */
  onSubscribed: () => void;
}

export function useStackRunEvents(listener: StackRunListener): void {
  const socket = useSocket();
  const tenantId = useWorkspace().tenant?.id ?? null;
  // The latest callbacks, without renewing the subscription on every render.
  const current = useRef(listener);
  useEffect(() => {
    current.current = listener;
  });
  const onSubscribed = useCallback(() => current.current.onSubscribed(), []);
  useTenantRoom(tenantId, onSubscribed);
  useEffect(() => {
    if (!socket) return;
    const onEvent = (event: StackRunEvent) => current.current.onEvent(event);
    socket.on(STACK_RUN_EVENT, onEvent);
    return () => {
      socket.off(STACK_RUN_EVENT, onEvent);
    };
  }, [socket]);
}
