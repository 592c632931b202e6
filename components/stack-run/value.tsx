// One value of a plan as the review shows it: JSON for structures, "(sensitive)" for masked ones, "(known
// after apply)" for what terraform learns only while applying.
export function PlanValue({ value, sensitive, unknown }: { value: unknown; sensitive: boolean; unknown?: boolean }) {
  if (sensitive) return <span className="italic text-slate-600 dark:text-slate-400">(sensitive)</span>;
  if (unknown) return <span className="italic text-slate-600 dark:text-slate-400">(known after apply)</span>;
  if (value === null || value === undefined) return <span className="text-slate-600 dark:text-slate-400">null</span>;
  return <pre className="font-mono whitespace-pre-wrap break-all">{typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value, null, 2)}</pre>;
}
