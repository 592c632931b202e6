// Values before and after a plan, side by side, one row per name: a resource's attributes (attribute-diff.tsx)
// and the outputs a plan changes (output-changes.tsx). Sensitive values are masked, unknown ones said to be.
import type { ReactNode } from 'react';
import { PlanValue } from './value';
import { ColumnHeaders } from '../table';

export interface BeforeAfterRow {
  name: string;
  /** Shown after the name (what forces a replacement, the output's action). */
  note?: ReactNode;
  before: unknown;
  after: unknown;
  sensitive: boolean;
  unknownAfter?: boolean;
}

export function BeforeAfterTable({
  rows,
  nameHeader,
  caption,
  rowData,
}: {
  rows: BeforeAfterRow[];
  nameHeader: string;
  caption: string;
  rowData: 'attribute' | 'output';
}) {
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm">
        <caption className="sr-only">{caption}</caption>
        <ColumnHeaders columns={[nameHeader, 'Before', 'After']} className="text-slate-600 dark:text-slate-400" cellClassName="py-1 pr-3 font-medium" />
        <tbody className="divide-y divide-slate-200 align-top dark:divide-slate-800">
          {rows.map((row) => (
            <tr key={row.name} {...{ [`data-${rowData}`]: row.name }}>
              <th scope="row" className="py-1 pr-3 font-mono font-normal">
                {row.name}
                {row.note ? <span className="ml-2 font-sans text-xs">{row.note}</span> : null}
              </th>
              <td className="bg-red-50 py-1 pr-3 dark:bg-red-950/40">
                <PlanValue value={row.before} sensitive={row.sensitive} />
              </td>
              <td className="bg-green-50 py-1 dark:bg-green-950/40">
                <PlanValue value={row.after} sensitive={row.sensitive} unknown={row.unknownAfter ?? false} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
