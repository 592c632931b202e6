// The header row of the app's data tables: one <th scope="col"> per column, in one style.
export function ColumnHeaders({ columns, className = 'text-left text-slate-700 dark:text-slate-300' }: { columns: readonly string[]; className?: string }) {
  return (
    <thead className={className}>
      <tr>
        {columns.map((column) => (
          <th key={column} scope="col" className="px-3 py-2 font-medium">
            {column}
          </th>
        ))}
      </tr>
    </thead>
  );
}
