// A resource's changed attributes, before and after; sensitive ones masked, the ones that force a
// replacement marked.
import type { PlanResource } from '../stacks/api';
import { BeforeAfterTable } from './before-after-table';

export function AttributeDiff({ address, changes }: { address: string; changes: PlanResource['changes'] }) {
  if (changes.length === 0) return <p className="text-sm text-slate-600 dark:text-slate-400">No attribute changes are shown for this resource.</p>;
  const rows = changes.map((change) => ({
    name: change.path,
    note: change.forcesReplacement ? <span className="text-orange-800 dark:text-orange-300">forces replacement</span> : null,
    before: change.before,
    after: change.after,
    sensitive: change.sensitive,
    unknownAfter: change.unknownAfter,
  }));
  return <BeforeAfterTable rows={rows} nameHeader="Attribute" caption={`Attribute changes of ${address}`} rowData="attribute" />;
}
