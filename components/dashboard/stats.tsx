// The dashboard's figures: the tenant's runs since the start of the viewer's day, and the organization's queue
// and busy workers (shared by its tenants, and only as fresh as the last read: events are per tenant).
import type { TenantSummary } from '../../lib/api/schemas/summary';
import { formatDuration } from '../runs-list/format';

function Stat({ label, value, note }: { label: string; value: string; note: string }) {
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900">
      <dt className="text-sm font-medium text-slate-600 dark:text-slate-400">{label}</dt>
      <dd className="mt-1 text-2xl font-semibold tabular-nums">{value}</dd>
      <dd className="mt-1 text-xs text-slate-600 dark:text-slate-400">{note}</dd>
    </div>
  );
}

export function TenantStats({ summary }: { summary: TenantSummary }) {
  const { runs } = summary;
  const decided = runs.succeeded + runs.failed;
  return (
    <dl aria-label="Today in this tenant" className="grid grid-cols-1 gap-4 sm:grid-cols-3">
      <Stat label="Runs today" value={String(runs.total)} note={`${runs.running} running, ${runs.queued} queued`} />
      <Stat
        label="Success rate"
        value={decided === 0 ? '—' : `${Math.round((runs.succeeded / decided) * 100)}%`}
        note={decided === 0 ? 'no run has finished today' : `${runs.succeeded} of ${decided} succeeded (cancelled runs not counted)`}
      />
      <Stat label="Median duration" value={formatDuration(summary.medianDurationMs)} note={`of ${summary.durationsMs.length} finished runs today`} />
    </dl>
  );
}

export function OrganizationStats({ summary, readAt }: { summary: TenantSummary; readAt: number }) {
  const asOf = new Date(readAt).toLocaleTimeString(undefined, { timeStyle: 'short' });
  return (
    <dl aria-label="Organization-wide" className="grid grid-cols-1 gap-4 sm:grid-cols-2">
      <Stat
        label="Queue depth"
        value={String(summary.organization.queuedRuns)}
        note={`runs of every tenant of the organization waiting for a worker, as of ${asOf}`}
      />
      <Stat
        label="Workers running jobs"
        value={String(summary.organization.busyWorkers)}
        note={`workers running this organization's runs, as of ${asOf} (idle workers are not counted)`}
      />
    </dl>
  );
}
