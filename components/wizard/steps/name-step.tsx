import { useId } from 'react';
import { useWorkspace } from '../../app/workspace';
import { INPUT } from '../../forms';
import type { StepProps } from './step-props';
import { TextField } from './fields';

export function NameStep({ draft, update }: StepProps) {
  const { tenants } = useWorkspace();
  const tenantId = useId();
  return (
    <div className="space-y-4">
      <TextField
        label="Name"
        value={draft.name}
        onChange={(name) => update({ name })}
        required
        maxLength={100}
        hint="Shown in lists; also the pipeline's name in its KDL."
      />
      <div>
        <label htmlFor={tenantId} className="block text-sm font-medium">
          Tenant
        </label>
        <select id={tenantId} value={draft.tenantId} onChange={(event) => update({ tenantId: event.target.value })} className={INPUT}>
          {tenants.map((tenant) => (
            <option key={tenant.id} value={tenant.id}>
              {tenant.name}
            </option>
          ))}
        </select>
      </div>
    </div>
  );
}
