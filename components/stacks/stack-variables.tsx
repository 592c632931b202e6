'use client';
// A stack's variables. A sensitive value is write-only: typed into a password field, sent once, never read
// back (the API answers null for it). A variable taken from another stack's output says so.
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { apiFetch, errorMessage } from '../app/api-client';
import { EmptyState, Loading, Section } from '../app/states';
import { Alert } from '../forms';
import { INPUT } from '../forms';
import { BUTTON } from '../pipelines/styles';
import { confirmed, useApiMutation } from '../settings/mutation';
import { fetchVariables, stackKeys, stackPaths, type StackVariable } from './api';

interface VariableInput {
  name: string;
  value: string;
  hcl: boolean;
  sensitive: boolean;
}

export function StackVariables({ stackId, writable }: { stackId: string; writable: boolean }) {
  const variables = useQuery({ queryKey: stackKeys.variables(stackId), queryFn: () => fetchVariables(stackId) });
  const remove = useApiMutation((name: string) => apiFetch(stackPaths.variable(stackId, name), { method: 'DELETE' }), [stackKeys.variables(stackId)]);
  return (
    <Section title="Variables" description="Given to terraform as input variables with each run. Sensitive values are write-only.">
      {writable ? <SetVariableForm stackId={stackId} /> : null}
      <Alert error={remove.errorText} />
      {variables.isPending ? (
        <Loading what="variables" />
      ) : variables.isError ? (
        <Alert error={`The variables could not be loaded: ${errorMessage(variables.error)}`} />
      ) : variables.data.items.length === 0 ? (
        <EmptyState title="No variables">The configuration's defaults apply{writable ? '; set a value above to override one' : ''}.</EmptyState>
      ) : (
        <ul aria-label="Variables" className="divide-y divide-slate-200 dark:divide-slate-800">
          {variables.data.items.map((variable) => (
            <li key={variable.name} className="flex flex-wrap items-center justify-between gap-3 py-3 text-sm" data-variable={variable.name}>
              <div className="min-w-0">
                <p className="font-mono font-medium break-all">
                  {variable.name}
                  {variable.hcl ? <span className="ml-2 font-sans text-xs text-slate-600 dark:text-slate-400">HCL</span> : null}
                </p>
                <VariableValue variable={variable} />
              </div>
              {writable ? (
                <button
                  type="button"
                  aria-label={`Delete variable ${variable.name}`}
                  disabled={remove.isPending}
                  onClick={() => confirmed(`Delete the variable ${variable.name}?`) && remove.mutate(variable.name)}
                  className={BUTTON.secondary}
                >
                  Delete
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

function VariableValue({ variable }: { variable: StackVariable }) {
  const muted = 'italic text-slate-600 dark:text-slate-400';
  if (variable.source) return <p className={muted}>from the output {variable.source.output} of another stack</p>;
  if (variable.sensitive) return <p className={muted}>sensitive: write-only</p>;
  return <pre className="font-mono whitespace-pre-wrap break-all text-slate-700 dark:text-slate-300">{variable.value}</pre>;
}

function SetVariableForm({ stackId }: { stackId: string }) {
  const [sensitive, setSensitive] = useState(false);
  const set = useApiMutation(
    ({ name, ...body }: VariableInput) => apiFetch<StackVariable>(stackPaths.variable(stackId, name), { method: 'PUT', body }),
    [stackKeys.variables(stackId)],
  );
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    set.mutate(
      { name: String(data.get('name')).trim(), value: String(data.get('value')), hcl: data.get('hcl') === 'on', sensitive },
      {
        onSuccess: () => {
          form.reset();
          setSensitive(false);
        },
      },
    );
  };
  return (
    <form onSubmit={submit} aria-label="Set a variable" className="mb-4 grid gap-3 sm:grid-cols-[1fr_2fr_auto] sm:items-end">
      <label className="block text-sm font-medium">
        Variable name
        <input name="name" required maxLength={128} pattern="[A-Za-z_][A-Za-z0-9_]*" autoComplete="off" className={INPUT} />
      </label>
      <label className="block text-sm font-medium">
        Value
        <input name="value" type={sensitive ? 'password' : 'text'} autoComplete="off" className={INPUT} />
      </label>
      <button type="submit" disabled={set.isPending} className={BUTTON.primary}>
        {set.isPending ? 'Saving…' : 'Set variable'}
      </button>
      <div className="flex flex-wrap gap-4 text-sm sm:col-span-3">
        <label className="flex items-center gap-2">
          <input type="checkbox" checked={sensitive} onChange={(event) => setSensitive(event.target.checked)} />
          Sensitive (write-only, masked in plans and logs)
        </label>
        <label className="flex items-center gap-2">
          <input type="checkbox" name="hcl" />
          HCL value (a number, list or map)
        </label>
      </div>
      <div className="sm:col-span-3">
        <Alert error={set.errorText} />
      </div>
    </form>
  );
}
