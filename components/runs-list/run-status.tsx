// A run's status as a badge: the run page's colours and marks (components/dag/status.ts), and the words.
import type { RunStatus } from '../../lib/events/types';
import { statusClasses, statusLabel, statusMark } from '../dag/status';

export function RunStatusBadge({ status }: { status: RunStatus }) {
  return (
    <span data-status={status} className={`inline-flex items-center gap-1 rounded-full border px-2 py-0.5 text-xs font-medium ${statusClasses(status)}`}>
      <span aria-hidden="true">{statusMark(status)}</span>
      {statusLabel(status)}
    </span>
  );
}
