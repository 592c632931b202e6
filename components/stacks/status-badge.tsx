// A stack run's status as a badge: a symbol, words and colours that read in light and dark themes.
import type { StackRunStatus } from './api';

const SLATE = 'border-slate-400 bg-slate-100 text-slate-800 dark:border-slate-500 dark:bg-slate-800 dark:text-slate-100';
const BLUE = 'border-blue-600 bg-blue-50 text-blue-900 dark:border-blue-400 dark:bg-blue-950 dark:text-blue-100';
const AMBER = 'border-amber-500 bg-amber-50 text-amber-900 dark:border-amber-400 dark:bg-amber-950 dark:text-amber-100';
const GREEN = 'border-green-600 bg-green-50 text-green-900 dark:border-green-500 dark:bg-green-950 dark:text-green-100';
const RED = 'border-red-600 bg-red-50 text-red-900 dark:border-red-500 dark:bg-red-950 dark:text-red-100';
const ORANGE = 'border-orange-500 bg-orange-50 text-orange-900 dark:border-orange-400 dark:bg-orange-950 dark:text-orange-100';

const LOOKS: Record<StackRunStatus, { mark: string; label: string; classes: string }> = {
  queued: { mark: '◔', label: 'queued', classes: SLATE },
  planning: { mark: '◐', label: 'planning', classes: BLUE },
  planned: { mark: '◇', label: 'planned: waiting for approval', classes: AMBER },
  no_changes: { mark: '✓', label: 'no changes', classes: GREEN },
  approved: { mark: '◔', label: 'approved', classes: BLUE },
  discarded: { mark: '⤼', label: 'discarded', classes: SLATE },
  applying: { mark: '◐', label: 'applying', classes: BLUE },
  applied: { mark: '✓', label: 'applied', classes: GREEN },
  errored: { mark: '✕', label: 'errored', classes: RED },
  cancelled: { mark: '⊘', label: 'cancelled', classes: ORANGE },
};

export function StackRunStatusBadge({ status }: { status: StackRunStatus }) {
  const look = LOOKS[status];
  return (
    <span data-status={status} className={`inline-flex items-center gap-1 rounded-full border px-2 py-0.5 text-xs font-medium ${look.classes}`}>
      <span aria-hidden="true">{look.mark}</span>
      {look.label}
    </span>
  );
}

export function DriftBadge() {
  return <span className={`inline-flex items-center gap-1 rounded-full border px-2 py-0.5 text-xs font-medium ${AMBER}`}>⚠ drifted</span>;
}
