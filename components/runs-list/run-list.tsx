// Runs of several pipelines, newest first: each links to its run page and shows its pipeline, number, status,
// branch, when it was created and how long it took. A list rather than a table, so it wraps at a phone's width.
import Link from 'next/link';
import type { TenantRun } from '../../lib/api/schemas/tenant-runs';
import { formatDuration, formatTime, runDurationMs } from './format';
import { RunStatusBadge } from './run-status';

export function RunList({ runs, label }: { runs: TenantRun[]; label: string }) {
  return (
    <ul
      aria-label={label}
      className="divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white dark:divide-slate-800 dark:border-slate-800 dark:bg-slate-900"
    >
      {runs.map((run) => (
        <li key={run.id} data-run-id={run.id} className="flex flex-wrap items-center gap-x-4 gap-y-1 px-4 py-3 text-sm">
          {/* No prefetch: a list of runs would fetch every run page it shows. */}
          <Link
            href={`/runs/${run.id}`}
            prefetch={false}
            className="min-w-0 grow basis-48 truncate font-medium text-blue-700 underline-offset-2 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-500 dark:text-blue-300"
          >
            {run.pipeline.name} #{run.number}
          </Link>
          <RunStatusBadge status={run.status} />
          <span className="w-32 truncate text-slate-600 dark:text-slate-400" title={run.branch ?? run.tag ?? undefined}>
            {run.branch ?? (run.tag ? `tag ${run.tag}` : run.event)}
          </span>
          <time dateTime={run.createdAt} className="w-40 text-slate-600 dark:text-slate-400">
            {formatTime(run.createdAt)}
          </time>
          <span className="w-24 text-right tabular-nums text-slate-600 dark:text-slate-400">
            <span className="sr-only">Duration: </span>
            {run.finishedAt ? formatDuration(runDurationMs(run)) : run.startedAt ? 'running' : '—'}
          </span>
        </li>
      ))}
    </ul>
  );
}
