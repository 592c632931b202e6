import type { StepProps } from './step-props';
import { TextField } from './fields';

export function RepositoryStep({ draft, update }: StepProps) {
  return (
    <div className="space-y-4">
      <TextField
        label="Repository"
        value={draft.repository}
        onChange={(repository) => update({ repository })}
        placeholder="https://git.example.com/team/app.git"
        inputMode="url"
        hint="Clone URL that runs check out before their first stage. Leave it empty for a pipeline that needs no checkout."
      />
      <TextField
        label="Branch"
        value={draft.branch}
        onChange={(branch) => update({ branch })}
        required
        hint="The default branch: manual and scheduled runs use it."
      />
    </div>
  );
}
