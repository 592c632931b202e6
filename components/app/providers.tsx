'use client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { RealtimeProvider } from './realtime';
import { WorkspaceProvider, type WorkspaceInfo } from './workspace';

/**
 * Client-side state of the app: one query cache per tab. Live data arrives over Socket.IO and is written into
 * the cache, so queries never refetch on their own (no window-focus refetch, no polling).
 */
export function Providers({ workspace, children }: { workspace: WorkspaceInfo; children: ReactNode }) {
  const [queryClient] = useState(() => new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, refetchOnWindowFocus: false, retry: 1 } } }));
  return (
    <QueryClientProvider client={queryClient}>
      <WorkspaceProvider value={workspace}>
        <RealtimeProvider>{children}</RealtimeProvider>
      </WorkspaceProvider>
    </QueryClientProvider>
  );
}
