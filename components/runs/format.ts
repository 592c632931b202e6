// Times and durations as the run page shows them.
import { useEffect, useState } from 'react';

/** `1h 02m`, `3m 07s`, `12s`, `0.4s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.floor(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${pad(seconds % 60)}s`;
  return `${Math.floor(seconds / 3600)}h ${pad(Math.floor((seconds % 3600) / 60))}m`;
}

/** From `startedAt` to `finishedAt`, or to now while it runs; null before it started. */
export function elapsed(startedAt: string | null, finishedAt: string | null, now: number): string | null {
  if (!startedAt) return null;
  return formatDuration(Math.max(0, (finishedAt ? Date.parse(finishedAt) : now) - Date.parse(startedAt)));
}

/** The current time, ticking every second while `ticking` (a running run's durations grow). */
export function useNow(ticking: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [ticking]);
  return now;
}
