// The diagnostics as text below the editor ("line:column severity: message"), so they are read out and
// findable without the underlines. A polite live region: the count is announced as typing changes it.
import type { Diagnostic } from '../../lib/pipeline';

function summary(diagnostics: Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  if (diagnostics.length === 0) return 'No problems found.';
  const parts = [errors ? `${errors} error${errors === 1 ? '' : 's'}` : null, warnings ? `${warnings} warning${warnings === 1 ? '' : 's'}` : null];
  return `${parts.filter(Boolean).join(', ')}.`;
}

export function DiagnosticsList({ id, diagnostics }: { id: string; diagnostics: Diagnostic[] }) {
  return (
    <div id={id} aria-live="polite" className="mt-2 text-sm">
      <p className={diagnostics.length ? 'font-medium text-red-800 dark:text-red-300' : 'text-green-800 dark:text-green-300'}>{summary(diagnostics)}</p>
      {diagnostics.length > 0 ? (
        <ul aria-label="Problems" className="mt-1 space-y-1 font-mono">
          {diagnostics.map((d) => (
            <li
              key={`${d.line}:${d.column}:${d.severity}:${d.message}`}
              data-severity={d.severity}
              className={d.severity === 'error' ? 'text-red-800 dark:text-red-300' : 'text-amber-800 dark:text-amber-300'}
            >
              {d.line}:{d.column} {d.severity}: {d.message}
              {d.hint ? <span className="block pl-4 text-slate-700 dark:text-slate-300">hint: {d.hint}</span> : null}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
