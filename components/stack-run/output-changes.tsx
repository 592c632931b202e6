// The outputs a plan changes, before and after; sensitive ones masked.
import type { StackRun } from '../stacks/api';
import { BeforeAfterTable } from './before-after-table';

type OutputChange = NonNullable<StackRun['plan']>['outputs'][number];

export function OutputChanges({ outputs }: { outputs: OutputChange[] }) {
  if (outputs.length === 0) return null;
  const rows = outputs.map((output) => ({
    name: output.name,
    note: <span className="text-slate-600 dark:text-slate-400">{output.action}</span>,
    before: output.before,
    after: output.after,
    sensitive: output.sensitive,
    unknownAfter: output.unknownAfter,
  }));
  return (
    <section aria-labelledby="output-changes" className="rounded-lg border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900">
      <h2 id="output-changes" className="mb-2 text-lg font-semibold">
        Output changes ({outputs.length})
      </h2>
      <BeforeAfterTable rows={rows} nameHeader="Output" caption="Output changes" rowData="output" />
    </section>
  );
}
