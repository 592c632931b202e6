'use client';
// "New stack": a name, where the configuration comes from (a repository, ref and path, or uploads by the
// CLI), auto-apply and the environment it manages. Creating it opens the stack's page.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { apiFetch, errorMessage } from '../app/api-client';
import { Alert } from '../forms';
import { INPUT } from '../forms';
import { BUTTON } from '../pipelines/styles';
import { stackHref, stackKeys, stackPaths, type Stack } from './api';

type Source = 'repository' | 'cli';

const optional = (value: FormDataEntryValue | null) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : null);

export function NewStackForm({ tenantId, onCancel }: { tenantId: string; onCancel: () => void }) {
  const [source, setSource] = useState<Source>('repository');
  const router = useRouter();
  const queryClient = useQueryClient();
  const create = useMutation({
    mutationFn: (body: Record<string, unknown>) => apiFetch<Stack>(stackPaths.list(tenantId), { method: 'POST', body }),
    onSuccess: (stack) => {
      void queryClient.invalidateQueries({ queryKey: stackKeys.list(tenantId) });
      router.push(stackHref(stack.id));
    },
  });

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    create.mutate({
      name: String(form.get('name')),
      ...(source === 'repository'
        ? { repository: String(form.get('repository')).trim(), ref: optional(form.get('ref')) ?? 'main', path: optional(form.get('path')) ?? '.' }
        : { repository: null }),
      autoApply: form.get('autoApply') === 'on',
      environment: optional(form.get('environment')),
    });
  };

  return (
    <form
      onSubmit={submit}
      aria-labelledby="new-stack-title"
      className="space-y-4 rounded-lg border border-slate-200 bg-white p-4 sm:p-6 dark:border-slate-800 dark:bg-slate-900"
    >
      <h2 id="new-stack-title" className="text-lg font-semibold">
        New stack
      </h2>
      <label className="block text-sm font-medium">
        Name
        <input name="name" required maxLength={100} className={INPUT} />
      </label>
      <fieldset className="space-y-2">
        <legend className="text-sm font-medium">Configuration</legend>
        {(
          [
            ['repository', 'From a git repository'],
            ['cli', 'Uploaded by the CLI with each plan (buildit stacks plan STACK DIR)'],
          ] as const
        ).map(([value, label]) => (
          <label key={value} className="flex items-center gap-2 text-sm">
            <input type="radio" name="source" value={value} checked={source === value} onChange={() => setSource(value)} />
            {label}
          </label>
        ))}
      </fieldset>
      {source === 'repository' ? (
        <div className="grid gap-4 sm:grid-cols-3">
          <label className="block text-sm font-medium sm:col-span-3">
            Repository
            <input name="repository" required placeholder="https://git.example.com/team/infra.git" className={INPUT} />
          </label>
          <label className="block text-sm font-medium">
            Branch
            <input name="ref" defaultValue="main" className={INPUT} />
          </label>
          <label className="block text-sm font-medium sm:col-span-2">
            Path
            <input name="path" defaultValue="." className={INPUT} />
          </label>
        </div>
      ) : null}
      <label className="block text-sm font-medium">
        Environment (optional)
        <input name="environment" maxLength={63} placeholder="staging" aria-describedby="new-stack-environment-hint" className={INPUT} />
      </label>
      <p id="new-stack-environment-hint" className="text-sm text-slate-600 dark:text-slate-400">
        The environment this stack manages: its outputs are copied there after each apply.
      </p>
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" name="autoApply" />
        Apply plans with changes without waiting for approval
      </label>
      <Alert error={create.isError ? errorMessage(create.error) : null} />
      <div className="flex flex-wrap gap-2">
        <button type="submit" disabled={create.isPending} className={BUTTON.primary}>
          {create.isPending ? 'Creating…' : 'Create stack'}
        </button>
        <button type="button" onClick={onCancel} className={BUTTON.secondary}>
          Cancel
        </button>
      </div>
    </form>
  );
}
