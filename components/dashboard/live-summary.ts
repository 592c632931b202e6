// The dashboard's figures kept current from run events, with no request: the summary lists the tenant's active
// runs, so each event says which count moves (a run the summary does not list is one created since it was read).
import type { TenantSummary } from '../../lib/api/schemas/summary';
import type { ServerRunEvent } from '../../lib/events/server-events';
import { median } from '../../lib/runs/median';

type Counted = keyof Omit<TenantSummary['runs'], 'total'>;

export function applyToSummary(summary: TenantSummary, event: ServerRunEvent): TenantSummary {
  if (event.type === 'run.queued') {
    // Created after the summary was read (a run it lists is already counted).
    if (summary.active.some((run) => run.id === event.runId)) return summary;
    const runs = { ...summary.runs, total: summary.runs.total + 1, queued: summary.runs.queued + 1 };
    return { ...summary, runs, active: [{ id: event.runId, status: 'queued', createdAt: event.time }, ...summary.active] };
  }
  if (event.type !== 'run.started' && event.type !== 'run.finished') return summary;
  const known = summary.active.find((run) => run.id === event.runId);
  if (known && event.type === 'run.started' && known.status === 'running') return summary;
  // An unknown run was created after the summary was read: since `since`, and not counted yet.
  const counted = known ? Date.parse(known.createdAt) >= Date.parse(summary.since) : true;
  const runs = { ...summary.runs };
  const move = (from: Counted | null, to: Counted) => {
    if (!counted) return;
    if (from) runs[from] -= 1;
    else runs.total += 1;
    runs[to] += 1;
  };
  if (event.type === 'run.started') {
    move(known ? 'queued' : null, 'running');
    const active = known
      ? summary.active.map((run) => (run.id === event.runId ? { ...run, status: 'running' as const } : run))
      : [{ id: event.runId, status: 'running' as const, createdAt: event.time }, ...summary.active];
    return { ...summary, runs, active };
  }
  move(known?.status ?? null, event.status);
  const started = known ? known.status === 'running' : event.durationMs > 0;
  const durationsMs = counted && started ? [...summary.durationsMs, event.durationMs].sort((a, b) => a - b) : summary.durationsMs;
  return {
    ...summary,
    runs,
    durationsMs,
    medianDurationMs: median(durationsMs),
    active: summary.active.filter((run) => run.id !== event.runId),
  };
}
