'use client';
// A stack's settings: name, source, terraform binary and version constraint, auto-apply, drift schedule, environment (saved with PATCH), and deleting
// the stack. Those who may not apply the stack see them without the means to change them.
import { useRouter } from 'next/navigation';
import type { FormEvent } from 'react';
import { apiFetch } from '../app/api-client';
import { Section } from '../app/states';
import { Alert } from '../forms';
import { INPUT } from '../forms';
import { BUTTON } from '../pipelines/styles';
import { confirmed, useApiMutation } from '../settings/mutation';
import { stackKeys, stackPaths, type Stack } from './api';

const orNull = (value: FormDataEntryValue | null) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : null);

/**
 * The stored settings, as the React key of the form's fields: they are uncontrolled, so a change made elsewhere
 * (another person, the API) remounts them to show it; a new run or a refetch of the same settings does not.
 */
const settingsKey = (stack: Stack) =>
  JSON.stringify([
    stack.name,
    stack.repository,
    stack.ref,
    stack.path,
    stack.autoApply,
    stack.terraformBinary,
    stack.terraformVersion,
    stack.driftSchedule,
    stack.environment?.name ?? null,
  ]);

export function StackSettings({ stack, writable }: { stack: Stack; writable: boolean }) {
  const router = useRouter();
  const save = useApiMutation(
    (body: Record<string, unknown>) => apiFetch<Stack>(stackPaths.one(stack.id), { method: 'PATCH', body }),
    [stackKeys.one(stack.id)],
  );
  const remove = useApiMutation(
    () => apiFetch(stackPaths.one(stack.id), { method: 'DELETE' }),
    [['stacks']],
    () => router.push('/stacks'),
  );
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    save.mutate({
      name: String(form.get('name')).trim(),
      ...(stack.repository === null
        ? {}
        : { repository: String(form.get('repository')).trim(), ref: String(form.get('ref')).trim(), path: String(form.get('path')).trim() }),
      autoApply: form.get('autoApply') === 'on',
      terraformBinary: orNull(form.get('terraformBinary')),
      terraformVersion: orNull(form.get('terraformVersion')),
      driftSchedule: orNull(form.get('driftSchedule')),
      environment: orNull(form.get('environment')),
    });
  };
  return (
    <Section title="Settings" description={writable ? undefined : 'Tenant admins change these.'}>
      <form onSubmit={submit} aria-label="Stack settings" className="space-y-4">
        <fieldset key={settingsKey(stack)} disabled={!writable} className="grid gap-4 sm:grid-cols-2">
          <label className="block text-sm font-medium">
            Name
            <input name="name" required maxLength={100} defaultValue={stack.name} className={INPUT} />
          </label>
          <label className="block text-sm font-medium">
            Environment
            <input name="environment" maxLength={63} defaultValue={stack.environment?.name ?? ''} className={INPUT} />
          </label>
          {stack.repository !== null ? (
            <>
              <label className="block text-sm font-medium sm:col-span-2">
                Repository
                <input name="repository" required defaultValue={stack.repository} className={INPUT} />
              </label>
              <label className="block text-sm font-medium">
                Branch
                <input name="ref" required defaultValue={stack.ref} className={INPUT} />
              </label>
              <label className="block text-sm font-medium">
                Path
                <input name="path" required defaultValue={stack.path} className={INPUT} />
              </label>
            </>
          ) : null}
          <label className="block text-sm font-medium">
            Terraform binary
            <input
              name="terraformBinary"
              maxLength={63}
              defaultValue={stack.terraformBinary ?? ''}
              placeholder="the worker's default, or a name from BUILDIT_TERRAFORM_BINS"
              className={INPUT}
            />
          </label>
          <label className="block text-sm font-medium">
            Terraform version
            <input
              name="terraformVersion"
              maxLength={200}
              defaultValue={stack.terraformVersion ?? ''}
              placeholder="any; or a constraint such as ~> 1.11 or >= 1.9, < 2.0"
              className={INPUT}
            />
          </label>
          <label className="block text-sm font-medium">
            Drift check schedule (cron, UTC)
            <input name="driftSchedule" defaultValue={stack.driftSchedule ?? ''} placeholder="0 * * * *" className={INPUT} />
          </label>
          <label className="flex items-center gap-2 self-end text-sm">
            <input type="checkbox" name="autoApply" defaultChecked={stack.autoApply} />
            Apply plans with changes without approval
          </label>
        </fieldset>
        <Alert error={save.errorText ?? remove.errorText} />
        {save.isSuccess ? (
          <p role="status" className="text-sm text-green-800 dark:text-green-300">
            Saved.
          </p>
        ) : null}
        {writable ? (
          <div className="flex flex-wrap gap-2">
            <button type="submit" disabled={save.isPending} className={BUTTON.primary}>
              {save.isPending ? 'Saving…' : 'Save settings'}
            </button>
            <button
              type="button"
              disabled={remove.isPending}
              onClick={() => confirmed(`Delete the stack ${stack.name}, its runs and state versions? Its resources are not destroyed.`) && remove.mutate()}
              className={BUTTON.danger}
            >
              Delete stack
            </button>
          </div>
        ) : null}
      </form>
    </Section>
  );
}
