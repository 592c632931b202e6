// A resource's changed attributes, before and after, side by side; sensitive ones masked, the ones that force
// a replacement marked.
import type { PlanResource } from '../stacks/api';
import { PlanValue } from './value';

export function AttributeDiff({ changes }: { changes: PlanResource['changes'] }) {
  if (changes.length === 0) return <p className="text-sm text-slate-600 dark:text-slate-400">No attribute changes are shown for this resource.</p>;
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm">
        <thead className="text-slate-600 dark:text-slate-400">
          <tr>
            <th scope="col" className="py-1 pr-3 font-medium">
              Attribute
            </th>
            <th scope="col" className="py-1 pr-3 font-medium">
              Before
            </th>
            <th scope="col" className="py-1 font-medium">
              After
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-200 align-top dark:divide-slate-800">
          {changes.map((change) => (
            <tr key={change.path} data-attribute={change.path}>
              <th scope="row" className="py-1 pr-3 font-mono font-normal">
                {change.path}
                {change.forcesReplacement ? <span className="ml-2 font-sans text-xs text-orange-800 dark:text-orange-300">forces replacement</span> : null}
              </th>
              <td className="bg-red-50 py-1 pr-3 dark:bg-red-950/40">
                <PlanValue value={change.before} sensitive={change.sensitive} />
              </td>
              <td className="bg-green-50 py-1 dark:bg-green-950/40">
                <PlanValue value={change.after} sensitive={change.sensitive} unknown={change.unknownAfter} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
