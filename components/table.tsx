// The header row of the app's data tables: one <th scope="col"> per column, in one style. A column is its
// label, or { label, className } where one column needs more (a width).
import type { ReactNode } from 'react';

type Column = string | { label: ReactNode; key: string; className: string };

interface Props {
  columns: readonly Column[];
  className?: string;
  cellClassName?: string;
}

export function ColumnHeaders({ columns, className = 'text-left text-slate-700 dark:text-slate-300', cellClassName = 'px-3 py-2 font-medium' }: Props) {
  return (
    <thead className={className}>
      <tr>
        {columns.map((column) =>
          typeof column === 'string' ? (
            <th key={column} scope="col" className={cellClassName}>
              {column}
            </th>
          ) : (
            <th key={column.key} scope="col" className={`${column.className} ${cellClassName}`}>
              {column.label}
            </th>
          ),
        )}
      </tr>
    </thead>
  );
}
