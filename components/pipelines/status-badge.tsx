// A run's status as a badge: colour, symbol and words (the graph's status styles, components/dag/status.ts).
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
