'use client';
// The log of the open stage, in the log viewer, with its loading, empty and error states.
import { LogViewer } from '../log';
import { errorMessage } from '../app/api-client';
import { Alert } from '../forms';
import { isFinishedStage, type StageRun } from './run-cache';
import type { RunFeed } from './run-feed';
import { useStageLog } from './use-run';

export function StageLog({ runId, stage, feed }: { runId: string; stage: StageRun; feed: RunFeed | null }) {
  const log = useStageLog(runId, stage.id, feed);
  if (log.isError) return <Alert error={`The log could not be loaded: ${errorMessage(log.error)}`} />;
  if (!log.data) {
    return (
      <p role="status" className="rounded-lg border border-slate-200 p-4 text-sm dark:border-slate-700">
        Loading the log of {stage.stageId}…
      </p>
    );
  }
  const live = !isFinishedStage(stage);
  return (
    <LogViewer
      key={stage.id}
      store={log.data.store}
      version={log.data.version}
      title={stage.stageId}
      live={live}
      downloadHref={`/api/v1/runs/${encodeURIComponent(runId)}/stages/${encodeURIComponent(stage.id)}/logs/raw`}
      loading={log.isFetching}
      emptyText={live ? (stage.status === 'running' ? 'No output yet.' : 'The stage has not started.') : 'This stage printed nothing.'}
    />
  );
}
