// The outputs a plan changes, before and after; sensitive ones masked.
import type { StackRun } from '../stacks/api';
import { PlanValue } from './value';

type OutputChange = NonNullable<StackRun['plan']>['outputs'][number];

export function OutputChanges({ outputs }: { outputs: OutputChange[] }) {
  if (outputs.length === 0) return null;
  return (
    <section aria-labelledby="output-changes" className="rounded-lg border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900">
      <h2 id="output-changes" className="mb-2 text-lg font-semibold">
        Output changes ({outputs.length})
      </h2>
      <ul className="divide-y divide-slate-200 text-sm dark:divide-slate-800">
        {outputs.map((output) => (
          <li key={output.name} data-output={output.name} className="grid gap-1 py-2 sm:grid-cols-[10rem_minmax(0,1fr)_minmax(0,1fr)]">
            <span className="font-mono">
              {output.name} <span className="font-sans text-xs text-slate-600 dark:text-slate-400">{output.action}</span>
            </span>
            <span>
              <span className="sr-only">before: </span>
              <PlanValue value={output.before} sensitive={output.sensitive} />
            </span>
            <span>
              <span className="sr-only">after: </span>
              <PlanValue value={output.after} sensitive={output.sensitive} unknown={output.unknownAfter} />
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
