'use client';
// A stack run and its log for the plan review, kept current by `stack_run.event`s (../stacks/live.ts: the
// worker's, and the API's for people's decisions): a new status or cancel request re-reads the run, a new log chunk reads the log after the last chunk
// held (`?after=`) into the log viewer's LogStore.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef } from 'react';
import { apiFetch } from '../app/api-client';
import { LogStore } from '../log';
import { fetchStackRun, LOG_PAGE, stackKeys, stackPaths, type StackRun, type StackRunLogs } from '../stacks/api';
import { useStackRunEvents } from '../stacks/live';

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

export function useStackRun(runId: string) {
  const queryClient = useQueryClient();
  const store = useRef(new LogStore());
  const run = useQuery({ queryKey: stackKeys.run(runId), queryFn: () => fetchStackRun(runId) });
  const log = useQuery({
    queryKey: stackKeys.log(runId),
    queryFn: async () => {
      let page: StackRunLogs;
      do {
        page = await apiFetch<StackRunLogs>(stackPaths.log(runId, store.current.lastSeq));
        addChunks(store.current, page.items);
      } while (page.items.length === LOG_PAGE);
      return { store: store.current, version: store.current.version };
    },
  });
  useStackRunEvents({
    onEvent: (event) => {
      if (event.stackRunId !== runId) return;
      const cached = queryClient.getQueryData<StackRun>(stackKeys.run(runId));
      // A new status, a cancel asked for by someone else (the Cancel button goes away), or the plan's attribute changes stored.
      if (
        cached?.status !== event.status ||
        (cached.cancelRequestedAt !== null) !== event.cancelRequested ||
        (cached.plan?.attributes === 'pending' && event.planStored)
      )
        void queryClient.invalidateQueries({ queryKey: stackKeys.run(runId) });
      if (event.lastSeq > store.current.lastSeq) void queryClient.invalidateQueries({ queryKey: stackKeys.log(runId) });
    },
    onSubscribed: () => void queryClient.invalidateQueries({ queryKey: stackKeys.run(runId) }),
  });
  return { run, log };
}
