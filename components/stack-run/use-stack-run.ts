'use client';
// A stack run and its log for the plan review. Stack runs publish no Socket.IO events (docs/realtime.md is
// about pipeline runs), so while the worker is at a run both are re-read every ACTIVE_RUN_REFRESH_MS; a run
// waiting for approval or over is read once. The log is read incrementally (`?after=` the last chunk) into
// the log viewer's LogStore.
import { useQuery } from '@tanstack/react-query';
import { useRef } from 'react';
import { apiFetch } from '../app/api-client';
import { LogStore } from '../log';
import { ACTIVE_RUN_REFRESH_MS, LOG_PAGE, fetchStackRun, isActive, stackKeys, stackPaths, type StackRunLogs, type StackRunStatus } from '../stacks/api';

export function useStackRun(runId: string) {
  return useQuery({
    queryKey: stackKeys.run(runId),
    queryFn: () => fetchStackRun(runId),
    refetchInterval: (query) => (query.state.data && isActive(query.state.data.status) ? ACTIVE_RUN_REFRESH_MS : false),
  });
}

/** Chunks of text (lines ending with \n) into the store, in seq order. */
function addChunks(store: LogStore, chunks: StackRunLogs['items']): void {
  for (const chunk of chunks) {
    const lines = chunk.text.endsWith('\n') ? chunk.text.slice(0, -1).split('\n') : chunk.text.split('\n');
    store.add({
      seq: chunk.seq,
      firstLine: store.lineCount + 1,
      lines: lines.map((line) => ({ stream: 'stdout' as const, line })),
      time: Date.parse(chunk.createdAt),
    });
  }
}

/** The run's log so far; re-read while the run is active, and once more each time its status changes. */
export function useStackRunLog(runId: string, status: StackRunStatus | undefined) {
  const store = useRef<LogStore | null>(null);
  return useQuery({
    queryKey: [...stackKeys.log(runId), status],
    enabled: status !== undefined,
    queryFn: async () => {
      store.current ??= new LogStore();
      let page: StackRunLogs;
      do {
        page = await apiFetch<StackRunLogs>(stackPaths.log(runId, store.current.lastSeq));
        addChunks(store.current, page.items);
      } while (page.items.length === LOG_PAGE);
      return { store: store.current, version: store.current.version };
    },
    refetchInterval: status && isActive(status) ? ACTIVE_RUN_REFRESH_MS : false,
    placeholderData: (previous) => previous,
  });
}
