// How a stage's status looks everywhere on the run page (graph nodes, stage list, badges): colours that read in
// light and dark themes, and words for people. `undefined` is a planned stage with no run yet (the editor's
// preview).
import type { StageStatus } from '../../lib/events/types';

export type { StageStatus };

const STYLES: Record<StageStatus | 'planned', string> = {
  planned: 'border-slate-300 bg-white text-slate-900 dark:border-slate-600 dark:bg-slate-800 dark:text-slate-100',
  pending: 'border-slate-300 bg-slate-50 text-slate-700 dark:border-slate-600 dark:bg-slate-800 dark:text-slate-200',
  queued: 'border-slate-400 bg-slate-100 text-slate-800 dark:border-slate-500 dark:bg-slate-800 dark:text-slate-100',
  waiting_approval: 'border-amber-500 bg-amber-50 text-amber-900 dark:border-amber-400 dark:bg-amber-950 dark:text-amber-100',
  running: 'border-blue-600 bg-blue-50 text-blue-900 dark:border-blue-400 dark:bg-blue-950 dark:text-blue-100',
  succeeded: 'border-green-600 bg-green-50 text-green-900 dark:border-green-500 dark:bg-green-950 dark:text-green-100',
  failed: 'border-red-600 bg-red-50 text-red-900 dark:border-red-500 dark:bg-red-950 dark:text-red-100',
  skipped: 'border-slate-300 bg-slate-100 text-slate-600 dark:border-slate-600 dark:bg-slate-900 dark:text-slate-300',
  cancelled: 'border-orange-500 bg-orange-50 text-orange-900 dark:border-orange-400 dark:bg-orange-950 dark:text-orange-100',
};

const LABELS: Record<StageStatus | 'planned', string> = {
  planned: 'planned',
  pending: 'pending',
  queued: 'queued',
  waiting_approval: 'waiting for approval',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  skipped: 'skipped',
  cancelled: 'cancelled',
};

const MARKS: Record<StageStatus | 'planned', string> = {
  planned: '○',
  pending: '○',
  queued: '◔',
  waiting_approval: '⏸',
  running: '◐',
  succeeded: '✓',
  failed: '✕',
  skipped: '⤼',
  cancelled: '⊘',
};

/** Border, background and text classes of a status (run statuses are stage statuses too). */
export const statusClasses = (status: StageStatus | undefined): string => STYLES[status ?? 'planned'];
/** The status in words: "waiting for approval". */
export const statusLabel = (status: StageStatus | undefined): string => LABELS[status ?? 'planned'];
/** A symbol beside the colour, for people who do not see colours. */
export const statusMark = (status: StageStatus | undefined): string => MARKS[status ?? 'planned'];
