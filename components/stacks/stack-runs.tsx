'use client';
// A stack's runs, newest first, each linking to its plan review; "Plan" (a plan only) and "Plan and apply"
// (a plan to approve, then applied) for those allowed. A new run opens its review.
import { useRouter } from 'next/navigation';
import Link from 'next/link';
import { apiFetch, errorMessage } from '../app/api-client';
import { usePagedList } from '../app/paged-list';
import { EmptyState, LoadMore, Loading, Section } from '../app/states';
import { useWorkspace } from '../app/workspace';
import { Alert } from '../forms';
import { BUTTON } from '../pipelines/styles';
import { formatTime } from '../runs-list/format';
import { useApiMutation } from '../settings/mutation';
import { stackKeys, stackPaths, stackRunHref, type Stack, type StackRun, type StackRunSummary } from './api';
import { ChangeCounts } from './change-counts';
import { StackRunStatusBadge } from './status-badge';

type Kind = 'plan' | 'apply' | 'destroy';

const LABELS: Record<Kind, string> = { plan: 'Plan', apply: 'Plan and apply', destroy: 'Plan destroy' };

export function StackRuns({ stack }: { stack: Stack }) {
  const { can } = useWorkspace();
  const router = useRouter();
  const runs = usePagedList<StackRunSummary>(stackKeys.runs(stack.id), stackPaths.runs(stack.id));
  const start = useApiMutation(
    (kind: Kind) => apiFetch<StackRun>(stackPaths.runs(stack.id), { method: 'POST', body: { kind } }),
    [stackKeys.runs(stack.id), stackKeys.one(stack.id)],
    (run) => router.push(stackRunHref(run.id)),
  );
  // Applying without review (auto-apply) is for those who may apply; a plan to review is for those who may plan.
  const kinds: Kind[] = can('stack.plan') ? (stack.autoApply && !can('stack.apply') ? ['plan'] : ['plan', 'apply', 'destroy']) : [];

  return (
    <Section title="Runs" description="Each run plans; an apply or destroy waits for approval on its page unless the stack auto-applies.">
      {kinds.length > 0 ? (
        <div className="mb-4 flex flex-wrap gap-2">
          {kinds.map((kind) => (
            <button
              key={kind}
              type="button"
              disabled={start.isPending}
              onClick={() => start.mutate(kind)}
              className={kind === 'apply' ? BUTTON.primary : BUTTON.secondary}
            >
              {LABELS[kind]}
            </button>
          ))}
        </div>
      ) : null}
      <Alert error={start.errorText} />
      {runs.isPending ? (
        <Loading what="runs" />
      ) : runs.isError ? (
        <Alert error={`The runs could not be loaded: ${errorMessage(runs.error)}`} />
      ) : runs.items.length === 0 ? (
        <EmptyState title="No runs yet">
          {stack.repository ? (
            'Start the first with Plan.'
          ) : (
            <>
              Upload the configuration and plan it with <code>buildit stacks plan {stack.slug} DIR</code>.
            </>
          )}
        </EmptyState>
      ) : (
        <>
          <ul aria-label="Runs" className="divide-y divide-slate-200 dark:divide-slate-800">
            {runs.items.map((run) => (
              <RunRow key={run.id} run={run} />
            ))}
          </ul>
          <LoadMore hasMore={runs.hasNextPage} loading={runs.isFetchingNextPage} onClick={() => void runs.fetchNextPage()} />
        </>
      )}
    </Section>
  );
}

function RunRow({ run }: { run: StackRunSummary }) {
  const who = run.triggeredBy?.email ?? run.triggeredByName ?? run.event;
  return (
    <li className="flex flex-wrap items-center justify-between gap-x-4 gap-y-1 py-3 text-sm">
      <div className="flex min-w-0 flex-wrap items-center gap-2">
        <Link
          href={stackRunHref(run.id)}
          className="font-medium text-blue-700 underline-offset-2 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 dark:text-blue-300"
        >
          Run #{run.number} · {run.kind}
        </Link>
        <StackRunStatusBadge status={run.status} />
        {run.changeSummary ? <ChangeCounts summary={run.changeSummary} /> : null}
      </div>
      <span className="text-slate-600 dark:text-slate-400">
        by {who} · {formatTime(run.createdAt)}
      </span>
    </li>
  );
}
