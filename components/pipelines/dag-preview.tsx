'use client';
// The graph of the text being edited: engineer B's StageGraph fed the planned stages (no status). While the
// text has errors, the last valid graph stays, marked as such, rather than flickering away at each keystroke.
import { useState } from 'react';
import { StageGraph } from '../dag';
import type { PreviewStage } from '../editor/check';

export function DagPreview({ stages }: { stages: PreviewStage[] | null }) {
  const [lastValid, setLastValid] = useState<PreviewStage[] | null>(stages);
  // Adjusting state while rendering (React's documented pattern for state derived from props that must persist).
  if (stages !== null && stages !== lastValid) setLastValid(stages);
  const shown = stages ?? lastValid;
  return (
    <section aria-label="Graph preview" className="min-w-0 rounded-md border border-slate-200 bg-white p-2 dark:border-slate-800 dark:bg-slate-900">
      {stages === null ? (
        <p className="px-2 py-1 text-sm text-slate-700 dark:text-slate-300">
          {lastValid ? 'The config has errors: this is its last valid graph.' : 'The graph appears once the config has no errors.'}
        </p>
      ) : null}
      {shown ? <StageGraph stages={shown} label="Graph preview of the pipeline" className={`h-80 ${stages === null ? 'opacity-60' : ''}`} /> : null}
    </section>
  );
}
