// Terms and their values in two columns (a run's facts, a state version's): one <dl>, a row per fact.
import type { ReactNode } from 'react';

export function FactList({ facts, className = '' }: { facts: Array<[string, ReactNode]>; className?: string }) {
  return (
    <dl className={`grid grid-cols-[auto_minmax(0,1fr)] gap-x-4 gap-y-1 ${className}`}>
      {facts.map(([term, value]) => (
        <div key={term} className="contents">
          <dt className="text-slate-600 dark:text-slate-400">{term}</dt>
          <dd className="break-words">{value}</dd>
        </div>
      ))}
    </dl>
  );
}
