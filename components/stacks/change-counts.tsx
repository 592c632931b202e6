// A plan's change summary in words with the +/~/-/± marks people know from Terraform.
import type { StackRunSummary } from './api';

type Summary = NonNullable<StackRunSummary['changeSummary']>;

export function ChangeCounts({ summary }: { summary: Summary }) {
  const parts = [
    ['+', summary.add, 'to add', 'text-green-800 dark:text-green-300'],
    ['~', summary.change, 'to change', 'text-amber-800 dark:text-amber-300'],
    ['±', summary.replace, 'to replace', 'text-orange-800 dark:text-orange-300'],
    ['-', summary.destroy, 'to destroy', 'text-red-800 dark:text-red-300'],
  ] as const;
  return (
    <span className="inline-flex flex-wrap gap-2 text-xs font-medium">
      {parts.map(([mark, count, words, colour]) => (
        <span key={words} className={colour}>
          <span aria-hidden="true">{mark}</span>
          {count} {words}
        </span>
      ))}
    </span>
  );
}
