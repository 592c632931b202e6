import type { TriggersDraft } from '../draft';
import type { StepProps } from './step-props';
import { TextField } from './fields';

const CHECKBOX = 'h-4 w-4 rounded border-slate-400 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600';

function Trigger({ label, checked, onChange, children }: { label: string; checked: boolean; onChange: (on: boolean) => void; children?: React.ReactNode }) {
  return (
    <div className="space-y-2 rounded-md border border-slate-200 p-3 dark:border-slate-800">
      <label className="flex items-center gap-2 text-sm font-medium">
        <input type="checkbox" checked={checked} onChange={(event) => onChange(event.target.checked)} className={CHECKBOX} />
        {label}
      </label>
      {checked ? children : null}
    </div>
  );
}

export function TriggersStep({ draft, update }: StepProps) {
  const triggers = draft.triggers;
  const set = (patch: Partial<TriggersDraft>) => update({ triggers: { ...triggers, ...patch } });
  return (
    <fieldset className="space-y-3">
      <legend className="mb-2 text-sm text-slate-700 dark:text-slate-300">When does the pipeline run? With none chosen, it runs for every event.</legend>
      <Trigger label="Push to a branch" checked={triggers.push} onChange={(push) => set({ push })}>
        <TextField
          label="Branches"
          value={triggers.pushBranches}
          onChange={(pushBranches) => set({ pushBranches })}
          hint="Globs separated by spaces (release/*); empty for every branch."
        />
      </Trigger>
      <Trigger label="Pull request" checked={triggers.pullRequest} onChange={(pullRequest) => set({ pullRequest })} />
      <Trigger label="Tag pushed" checked={triggers.tag} onChange={(tag) => set({ tag })}>
        <TextField label="Tags" value={triggers.tags} onChange={(tags) => set({ tags })} hint="Globs separated by spaces (v*); empty for every tag." />
      </Trigger>
      <Trigger label="Schedule" checked={triggers.schedule} onChange={(schedule) => set({ schedule })}>
        <TextField label="Cron" value={triggers.cron} onChange={(cron) => set({ cron })} hint="Five fields in UTC: minute hour day month weekday." />
      </Trigger>
      <Trigger label="Manual (Run pipeline, the API, the CLI)" checked={triggers.manual} onChange={(manual) => set({ manual })} />
    </fieldset>
  );
}
