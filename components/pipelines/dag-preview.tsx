'use client';
// The graph of the text being edited (engineer B's DAG component, fed planned stages without a status).
import type { PreviewStage } from '../editor/check';

export function DagPreview({ stages }: { stages: PreviewStage[] | null }) {
  return (
    <section aria-label="Pipeline graph preview" className="min-h-64 rounded-md border border-slate-200 bg-white p-3 dark:border-slate-800 dark:bg-slate-900">
      {stages === null ? (
        <p className="text-sm text-slate-700 dark:text-slate-300">The graph appears once the config has no errors.</p>
      ) : (
        <ol className="space-y-1 text-sm">
          {stages.map((stage) => (
            <li key={stage.id}>
              {stage.id}
              {stage.needs.length ? ` ← ${stage.needs.join(', ')}` : ''}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
