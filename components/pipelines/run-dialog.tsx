'use client';
// "Run pipeline": a modal dialog (native <dialog>: focus stays inside, Escape closes) asking for the branch
// and the run's variables (those the stored config declares are listed with their defaults), then
// POST /api/v1/pipelines/{id}/runs and on to the run's page.
import { useMutation } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useId, useRef, useState, type FormEvent } from 'react';
import { loadPipeline } from '../../lib/pipeline';
import { apiFetch, errorMessage } from '../app/api-client';
import { newKey, type NamedValue } from '../wizard/draft';
import type { Pipeline, Run } from './api';
import { Alert, INPUT } from '../forms';
import { BUTTON } from './styles';
import { VariableRows } from './variable-rows';

function declaredVariables(config: string | null): NamedValue[] {
  const spec = config === null ? null : loadPipeline(config, 'buildit.kdl').spec;
  return (spec?.variables ?? []).map((variable) => ({ key: newKey(), name: variable.name, value: variable.default ?? '' }));
}

export function RunPipelineButton({ pipeline }: { pipeline: Pipeline }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [open, setOpen] = useState(false);
  const show = () => {
    setOpen(true);
    dialog.current?.showModal();
  };
  return (
    <>
      <button type="button" onClick={show} className={BUTTON.primary}>
        Run pipeline
      </button>
      <dialog
        ref={dialog}
        onClose={() => setOpen(false)}
        aria-labelledby="run-dialog-title"
        className="m-auto w-[min(32rem,calc(100vw-2rem))] rounded-lg bg-white p-0 text-slate-900 shadow-xl backdrop:bg-slate-900/50 dark:bg-slate-900 dark:text-slate-100"
      >
        {open ? <RunForm pipeline={pipeline} onCancel={() => dialog.current?.close()} /> : null}
      </dialog>
    </>
  );
}

function RunForm({ pipeline, onCancel }: { pipeline: Pipeline; onCancel: () => void }) {
  const router = useRouter();
  const branchId = useId();
  const [branch, setBranch] = useState(pipeline.defaultBranch);
  const [variables, setVariables] = useState<NamedValue[]>(() => declaredVariables(pipeline.config));
  const trigger = useMutation({
    mutationFn: () =>
      apiFetch<Run>(`/api/v1/pipelines/${pipeline.id}/runs`, {
        method: 'POST',
        body: { branch: branch.trim(), variables: Object.fromEntries(variables.filter((v) => v.name.trim()).map((v) => [v.name.trim(), v.value])) },
      }),
    onSuccess: (run) => router.push(`/runs/${run.id}`),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    trigger.mutate();
  };
  return (
    <form onSubmit={submit} className="space-y-4 p-6">
      <h2 id="run-dialog-title" className="text-lg font-semibold">
        Run {pipeline.name}
      </h2>
      <div>
        <label htmlFor={branchId} className="block text-sm font-medium">
          Branch
        </label>
        <input id={branchId} value={branch} onChange={(event) => setBranch(event.target.value)} required className={INPUT} />
      </div>
      <VariableRows legend="Variables" rows={variables} onChange={setVariables} valueLabel="Value" />
      <Alert error={trigger.isError ? `The run was not started: ${errorMessage(trigger.error)}` : null} />
      <div className="flex justify-end gap-2">
        <button type="button" onClick={onCancel} className={BUTTON.secondary}>
          Cancel
        </button>
        <button type="submit" disabled={trigger.isPending || trigger.isSuccess} className={BUTTON.primary}>
          {trigger.isPending || trigger.isSuccess ? 'Starting…' : 'Start run'}
        </button>
      </div>
    </form>
  );
}
