'use client';
// One Socket.IO connection per browser tab (docs/realtime.md), authenticated by the session cookie. Pages
// subscribe to a run or to their tenant's status events and write what arrives into the TanStack Query
// cache: nothing polls.
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { io, type Socket } from 'socket.io-client';
import type { ServerRunEvent } from '../../lib/events/server-events';
import { RUN_EVENT, SUBSCRIBE_TENANT, UNSUBSCRIBE, type ClientToServerEvents, type ServerToClientEvents } from '../../lib/realtime/protocol';

export type AppSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const SocketContext = createContext<AppSocket | null>(null);

export function RealtimeProvider({ children }: { children: ReactNode }) {
  const [socket, setSocket] = useState<AppSocket | null>(null);
  useEffect(() => {
    const connection: AppSocket = io({ transports: ['websocket'], withCredentials: true });
    setSocket(connection);
    return () => {
      connection.disconnect();
    };
  }, []);
  return <SocketContext.Provider value={socket}>{children}</SocketContext.Provider>;
}

/** null until the connection object exists (first render, server rendering). */
export function useSocket(): AppSocket | null {
  return useContext(SocketContext);
}

/** How many mounted hooks hold each tenant room, per socket: the room is left only when the last one unmounts. */
const tenantRoomHolders = new WeakMap<AppSocket, Map<string, number>>();

/**
 * Keeps this tab in the tenant's room while mounted (again after each reconnect). `onSubscribed` is called on
 * each acknowledged subscription: the tenant room sends no catch-up, so what was read before it (or missed
 * while disconnected) is to be read again then. It should be stable (useCallback) or the subscription is renewed.
 */
export function useTenantRoom(tenantId: string | null, onSubscribed?: () => void): void {
  const socket = useSocket();
  useEffect(() => {
    if (!socket || !tenantId) return;
    const holders = tenantRoomHolders.get(socket) ?? new Map<string, number>();
    tenantRoomHolders.set(socket, holders);
    holders.set(tenantId, (holders.get(tenantId) ?? 0) + 1);
    const subscribe = () =>
      socket.emit(SUBSCRIBE_TENANT, { tenantId }, (ack) => {
        if (ack.ok) onSubscribed?.();
      });
    if (socket.connected) subscribe();
    socket.on('connect', subscribe);
    return () => {
      socket.off('connect', subscribe);
      const remaining = (holders.get(tenantId) ?? 1) - 1;
      if (remaining > 0) holders.set(tenantId, remaining);
      else {
        holders.delete(tenantId);
        if (socket.connected) socket.emit(UNSUBSCRIBE, { tenantId }, () => undefined);
      }
    };
  }, [socket, tenantId, onSubscribed]);
}

/** Calls `onEvent` with every status event (never log chunks) of the tenant's runs while mounted; see useTenantRoom. */
export function useTenantRunEvents(tenantId: string | null, onEvent: (event: ServerRunEvent) => void, onSubscribed?: () => void): void {
  const socket = useSocket();
  useTenantRoom(tenantId, onSubscribed);
  useEffect(() => {
    if (!socket) return;
    socket.on(RUN_EVENT, onEvent);
    return () => {
      socket.off(RUN_EVENT, onEvent);
    };
  }, [socket, onEvent]);
}
