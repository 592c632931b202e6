'use client';
// The plan review of a stack run: its status and who started and approved it, the decision (Approve,
// Discard, Cancel) for those allowed, the changed resources grouped by action, each opening to an
// attribute-level diff, and the output changes; the raw log beside them. The page follows the run live
// (use-stack-run.ts).
import Link from 'next/link';
import { Loading, LoadFailed } from '../app/states';
import { stackHref } from '../stacks/api';
import { ChangeCounts } from '../stacks/change-counts';
import { StackRunStatusBadge } from '../stacks/status-badge';
import { DecisionButtons } from './decision-buttons';
import { OutputChanges } from './output-changes';
import { ResourceGroups, type AttributesState } from './resource-groups';
import { RunFacts } from './run-facts';
import { StackRunLog } from './stack-run-log';
import { useStackRun } from './use-stack-run';

export function PlanReview({ runId }: { runId: string }) {
  const { run, log } = useStackRun(runId);
  if (run.isPending) return <Loading what="the run" />;
  if (run.isError) return <LoadFailed what="stack run" error={run.error} back={{ href: '/stacks', label: 'All stacks' }} />;
  const data = run.data;
  const attributes: AttributesState =
    data.plan?.attributes !== 'pending' ? 'stored' : data.status === 'planned' || data.status === 'no_changes' ? 'storing' : 'missing';
  return (
    <div className="space-y-4">
      <header className="flex flex-wrap items-center gap-x-3 gap-y-2">
        <h1 className="text-2xl font-semibold tracking-tight">
          Run #{data.number} · {data.kind}
        </h1>
        <StackRunStatusBadge status={data.status} />
        {data.changeSummary ? <ChangeCounts summary={data.changeSummary} /> : null}
        <Link href={stackHref(data.stackId)} className="text-sm text-blue-700 underline dark:text-blue-300">
          Stack
        </Link>
      </header>
      <div className="grid gap-4 xl:grid-cols-[minmax(0,1fr)_minmax(0,1fr)]">
        <div className="min-w-0 space-y-4">
          <RunFacts run={data} />
          <DecisionButtons run={data} />
          {data.plan ? (
            <>
              {attributes === 'storing' ? (
                <p role="status" className="text-sm text-slate-700 dark:text-slate-300">
                  Storing the plan&apos;s attribute changes and output changes…
                </p>
              ) : null}
              <ResourceGroups resources={data.plan.resources} attributes={attributes} />
              <OutputChanges outputs={data.plan.outputs} />
            </>
          ) : (
            <p className="text-sm text-slate-600 dark:text-slate-400">
              {data.status === 'queued' || data.status === 'planning' ? 'The plan appears here once terraform has made it.' : 'This run has no plan.'}
            </p>
          )}
        </div>
        <div className="flex h-[70vh] min-h-80 min-w-0 flex-col">
          <StackRunLog log={log} status={data.status} />
        </div>
      </div>
    </div>
  );
}
