'use client';
// The run's log (terraform's output as readable lines, sensitive values masked by the worker) in the log viewer.
import type { UseQueryResult } from '@tanstack/react-query';
import { errorMessage } from '../app/api-client';
import { Alert } from '../forms';
import { LogViewer, type LogStore } from '../log';
import { isActive, type StackRunStatus } from '../stacks/api';

type Log = UseQueryResult<{ store: LogStore; version: number }>;

export function StackRunLog({ log, status }: { log: Log; status: StackRunStatus }) {
  if (log.isError) return <Alert error={`The log could not be loaded: ${errorMessage(log.error)}`} />;
  if (!log.data) {
    return (
      <p role="status" className="rounded-lg border border-slate-200 p-4 text-sm dark:border-slate-700">
        Loading the log…
      </p>
    );
  }
  const live = isActive(status);
  return (
    <LogViewer
      store={log.data.store}
      version={log.data.version}
      title="Terraform log"
      live={live}
      emptyText={status === 'queued' ? 'The run waits for a worker.' : live ? 'No output yet.' : 'This run printed nothing.'}
    />
  );
}
