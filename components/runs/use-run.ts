'use client';
// The run page's data: the run from the REST API, followed live (RunFeed), and the open stage's log.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { apiFetch } from '../app/api-client';
import { useSocket } from '../app/realtime';
import type { LogPage } from '../../lib/api/schemas/runs';
import { RunFeed, type StageLog } from './run-feed';
import { runKey, stageLogKey, type Run } from './run-cache';

/** Chunks per REST page: at most 8 × 64 KiB of lines, parsed well within a frame budget. */
const LOG_PAGE_CHUNKS = 8;

export function useRun(runId: string) {
  return useQuery({ queryKey: runKey(runId), queryFn: () => apiFetch<Run>(`/api/v1/runs/${encodeURIComponent(runId)}`) });
}

/** Follows the run once it is loaded (the subscription names its stages); null until then. */
export function useRunFeed(runId: string, loaded: boolean): RunFeed | null {
  const queryClient = useQueryClient();
  const socket = useSocket();
  const [feed, setFeed] = useState<RunFeed | null>(null);
  useEffect(() => {
    if (!socket || !loaded) return;
    const created = new RunFeed(queryClient, socket, runId);
    setFeed(created);
    return () => {
      created.close();
      setFeed(null);
    };
  }, [queryClient, socket, runId, loaded]);
  return feed;
}

/** A stage's log: REST pages once the live feed is subscribed, then live chunks (run-feed.ts). */
export function useStageLog(runId: string, stageRunId: string | null, feed: RunFeed | null) {
  const queryClient = useQueryClient();
  return useQuery({
    queryKey: stageLogKey(runId, stageRunId ?? ''),
    enabled: feed !== null && stageRunId !== null,
    queryFn: async (): Promise<StageLog> => {
      const id = stageRunId!;
      const store = feed!.storeFor(id);
      await feed!.subscribed();
      for (;;) {
        const page = await apiFetch<LogPage>(
          `/api/v1/runs/${encodeURIComponent(runId)}/stages/${encodeURIComponent(id)}/logs?after=${store.lastSeq}&limit=${LOG_PAGE_CHUNKS}`,
        );
        for (const chunk of page.chunks) store.add({ ...chunk, time: Date.parse(chunk.createdAt) });
        // Shown while the next page loads: a long log appears from its first lines on.
        queryClient.setQueryData<StageLog>(stageLogKey(runId, id), { store, version: store.version });
        if (page.chunks.length < LOG_PAGE_CHUNKS) break;
      }
      feed!.markLoaded(id);
      return { store, version: store.version };
    },
  });
}
