// Outputs of a stack or an environment: names and values, a sensitive one only said to be there (the API
// never sends its value).
import { ColumnHeaders } from '../table';
import type { StackOutput } from './api';

const format = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value, null, 2));

export function OutputsTable({ outputs, caption }: { outputs: Record<string, StackOutput>; caption: string }) {
  const entries = Object.entries(outputs).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return <p className="text-sm text-slate-600 dark:text-slate-400">No outputs yet: they appear after an apply.</p>;
  return (
    <table className="w-full table-fixed text-left text-sm">
      <caption className="sr-only">{caption}</caption>
      <ColumnHeaders
        columns={[{ key: 'name', label: 'Name', className: 'w-1/3' }, 'Value']}
        className="text-slate-600 dark:text-slate-400"
        cellClassName="py-1 pr-3 font-medium"
      />
      <tbody className="divide-y divide-slate-200 dark:divide-slate-800">
        {entries.map(([name, output]) => (
          <tr key={name} data-output={name}>
            <th scope="row" className="py-2 pr-3 align-top font-mono font-normal break-words">
              {name}
            </th>
            <td className="py-2 align-top">
              {output.sensitive ? (
                <span className="italic text-slate-600 dark:text-slate-400">sensitive: hidden</span>
              ) : (
                <pre className="font-mono whitespace-pre-wrap break-words">{format(output.value)}</pre>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
