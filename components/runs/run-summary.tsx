// The left column's head: what the run is (status, trigger, who, branch, commit) and how long it took.
import Link from 'next/link';
import type { ReactNode } from 'react';
import { elapsed } from './format';
import type { Run } from './run-cache';
import { StatusBadge } from './status-badge';

function Row({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div className="flex gap-3 py-1">
      <dt className="w-20 shrink-0 text-slate-600 dark:text-slate-300">{term}</dt>
      <dd className="min-w-0 break-words">{children}</dd>
    </div>
  );
}

const triggerText = (run: Run) => (run.triggeredBy ? `${run.event} (${run.triggeredBy})` : run.event);
const actorText = (run: Run) => (run.actor ? (run.actor.name ?? run.actor.email) : run.triggeredBy ? run.triggeredBy.split(':')[0] : '—');

export function RunSummary({ run, now }: { run: Run; now: number }) {
  const duration = elapsed(run.startedAt, run.finishedAt, now);
  return (
    <section aria-label="Summary" className="rounded-lg border border-slate-200 p-4 text-sm dark:border-slate-700">
      <dl>
        <Row term="Status">
          <StatusBadge status={run.status} />
          {run.cancelRequestedAt && run.status === 'running' && <span className="ml-2 text-xs">cancelling…</span>}
        </Row>
        {run.status === 'queued' && run.waitingFor && (
          <Row term="Waiting">
            for{' '}
            <Link href={`/runs/${run.waitingFor.runId}`} className="text-blue-700 underline dark:text-blue-300">
              run #{run.waitingFor.runNumber}
            </Link>{' '}
            of group <code className="font-mono text-xs">{run.waitingFor.group}</code>
          </Row>
        )}
        <Row term="Trigger">{triggerText(run)}</Row>
        <Row term="Actor">{actorText(run)}</Row>
        <Row term="Branch">{run.tag ? `tag ${run.tag}` : (run.branch ?? '—')}</Row>
        <Row term="Commit">
          {run.commitSha ? (
            <>
              <code className="font-mono text-xs">{run.commitSha.slice(0, 12)}</code>
              {run.commitMessage && <span className="block truncate text-slate-600 dark:text-slate-300">{run.commitMessage.split('\n')[0]}</span>}
            </>
          ) : (
            '—'
          )}
        </Row>
        <Row term="Duration">{duration ?? 'not started'}</Row>
        {run.rerunOfId && (
          <Row term="Re-run of">
            <Link href={`/runs/${run.rerunOfId}`} className="text-blue-700 underline dark:text-blue-300">
              an earlier run
            </Link>
          </Row>
        )}
      </dl>
    </section>
  );
}
