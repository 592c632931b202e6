import { VariableRows } from '../../pipelines/variable-rows';
import type { StepProps } from './step-props';

export function VariablesStep({ draft, update }: StepProps) {
  return (
    <div className="space-y-6">
      <VariableRows
        legend="Environment variables"
        description="Set in every stage. Values are pipeline text: ${secrets.NAME} and the like are filled in per run."
        rows={draft.env}
        onChange={(env) => update({ env })}
        valueLabel="Value"
      />
      <VariableRows
        legend="Secrets"
        description="Only names go into the pipeline (each stage gets the secret as an environment variable). A value typed here is stored in the tenant's secrets when the pipeline is created, never in the draft; leave it empty to use a secret the tenant already has."
        rows={draft.secrets}
        onChange={(secrets) => update({ secrets })}
        valueLabel="Secret value"
        valueType="password"
      />
    </div>
  );
}
