// How run times read in lists: durations as "1m 05s", times in the viewer's locale.

export function formatDuration(ms: number | null): string {
  if (ms === null) return '—';
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/** Started to finished, or to now while running; null before it starts. */
export function runDurationMs(run: { startedAt: string | null; finishedAt: string | null }, now = Date.now()): number | null {
  if (run.startedAt === null) return null;
  return (run.finishedAt === null ? now : Date.parse(run.finishedAt)) - Date.parse(run.startedAt);
}

export function formatTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
