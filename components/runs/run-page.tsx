'use client';
// The run page (GitHub Actions' layout): on the left the summary, the actions and the stages; on the right
// the graph and the open stage's log. Everything updates live from Socket.IO events written into the query
// cache (run-feed.ts): the page fetches nothing while the run goes on.
import Link from 'next/link';
import { useCallback, useState } from 'react';
import { ApiError, errorMessage } from '../app/api-client';
import { useWorkspace } from '../app/workspace';
import { StageGraph } from '../dag';
import { Alert } from '../forms';
import { useNow } from './format';
import { isFinishedRun, type Run, type StageRun } from './run-cache';
import { RunActions } from './run-actions';
import { RunSummary } from './run-summary';
import { StageList } from './stage-list';
import { StageLog } from './stage-log';
import { useRun, useRunFeed } from './use-run';

export function RunPage({ runId, initialStage }: { runId: string; initialStage: string | null }) {
  const run = useRun(runId);
  const feed = useRunFeed(runId, run.isSuccess);
  const [picked, setPicked] = useState(initialStage);
  const { can } = useWorkspace();
  const now = useNow(run.data !== undefined && !isFinishedRun(run.data));

  // The open stage is in the URL (?stage=ID), so a link to a log line names its stage too.
  const select = useCallback((stageId: string) => {
    setPicked(stageId);
    window.history.replaceState(null, '', `?stage=${encodeURIComponent(stageId)}`);
  }, []);

  if (run.isPending) {
    return (
      <p role="status" className="p-6">
        Loading the run…
      </p>
    );
  }
  if (run.isError) {
    const missing = run.error instanceof ApiError && run.error.status === 404;
    return (
      <div className="space-y-3 p-6">
        <h1 className="text-xl font-semibold">{missing ? 'Run not found' : 'The run could not be loaded'}</h1>
        <Alert error={missing ? 'No run with this id exists, or you may not see it.' : errorMessage(run.error)} />
        <Link href="/runs" className="text-blue-700 underline dark:text-blue-300">
          All runs
        </Link>
      </div>
    );
  }
  const data = run.data;
  const open = openStage(data, picked);
  return (
    <div className="space-y-4 p-4 md:p-6">
      <header className="flex flex-wrap items-baseline gap-x-3">
        <h1 className="text-xl font-semibold">Run #{data.number}</h1>
        <Link href={`/pipelines/${data.pipelineId}`} className="text-sm text-blue-700 underline dark:text-blue-300">
          Pipeline
        </Link>
      </header>
      <div className="grid gap-4 lg:grid-cols-[20rem_minmax(0,1fr)]">
        <div className="space-y-4">
          <RunSummary run={data} now={now} />
          <RunActions run={data} />
          <StageList runId={data.id} stages={data.stages} selectedId={open?.stageId ?? null} onSelect={select} canApprove={can('run.approve')} now={now} />
        </div>
        <div className="flex min-w-0 flex-col gap-4">
          <StageGraph
            stages={data.stages.map((stage) => ({ id: stage.stageId, name: stage.name, needs: stage.needs, status: stage.status }))}
            selectedId={open?.stageId ?? null}
            onSelect={select}
            label={`Stages of run #${data.number}`}
          />
          <div className="flex h-[70vh] min-h-80 flex-col">
            {open ? (
              <StageLog runId={data.id} stage={open} feed={feed} />
            ) : (
              <p className="text-sm text-slate-600 dark:text-slate-300">Select a stage to see its log.</p>
            )}
          </div>
        </div>
      </div>
    </div>
  );
}

/** The stage picked, else the one worth watching: running, waiting, failed, else the last that started. */
function openStage(run: Run, picked: string | null): StageRun | undefined {
  const { stages } = run;
  return (
    stages.find((stage) => stage.stageId === picked) ??
    stages.find((stage) => stage.status === 'running') ??
    stages.find((stage) => stage.status === 'waiting_approval') ??
    stages.find((stage) => stage.status === 'failed') ??
    stages.findLast((stage) => stage.startedAt !== null) ??
    stages[0]
  );
}
