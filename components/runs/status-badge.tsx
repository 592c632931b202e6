import { statusClasses, statusLabel, statusMark, type StageStatus } from '../dag';

/** A run's or a stage's status: symbol, words and colour. */
export function StatusBadge({ status }: { status: StageStatus }) {
  return (
    <span data-status={status} className={`inline-flex items-center gap-1 rounded-full border px-2 py-0.5 text-xs font-medium ${statusClasses(status)}`}>
      <span aria-hidden="true">{statusMark(status)}</span>
      {statusLabel(status)}
    </span>
  );
}
