'use client';
// A pipeline's stored KDL in the editor: diagnostics as you type (lib/pipeline in the browser), the DAG of
// the current text, and saving. Text with errors is not sent; the API checks again and its 422 diagnostics
// (the same lib/pipeline) are shown the same way.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import type { Diagnostic } from '../../lib/pipeline';
import { ApiError, apiFetch, errorMessage } from '../app/api-client';
import { useWorkspace } from '../app/workspace';
import { DiagnosticsList } from '../editor/diagnostics-list';
import { KdlEditor } from '../editor/kdl-editor';
import { usePipelineCheck } from '../editor/use-pipeline-check';
import { Alert } from '../forms';
import { pipelineKeys, type Pipeline } from './api';
import { DagPreview } from './dag-preview';
import { BUTTON } from './styles';

/** The diagnostics of an `invalid_pipeline` refusal, else null. */
function refusedDiagnostics(error: unknown): Diagnostic[] | null {
  return error instanceof ApiError && error.code === 'invalid_pipeline' && Array.isArray(error.details) ? (error.details as Diagnostic[]) : null;
}

export function ConfigSection({ pipeline }: { pipeline: Pipeline }) {
  if (pipeline.config === null) {
    return (
      <p className="text-slate-700 dark:text-slate-300">
        This pipeline reads its config from <code className="font-mono">{pipeline.configPath}</code> in its repository at each run&apos;s commit.
      </p>
    );
  }
  return <ConfigEditor pipeline={pipeline} saved={pipeline.config} />;
}

function ConfigEditor({ pipeline, saved }: { pipeline: Pipeline; saved: string }) {
  const { can } = useWorkspace();
  const client = useQueryClient();
  const diagnosticsId = useId();
  const [text, setText] = useState(saved);
  const [refusal, setRefusal] = useState<string | null>(null);
  const check = usePipelineCheck(text);
  const save = useMutation({
    mutationFn: (config: string) => apiFetch<Pipeline>(`/api/v1/pipelines/${pipeline.id}`, { method: 'PATCH', body: { config } }),
    onSuccess: (updated) => client.setQueryData(pipelineKeys.one(pipeline.id), updated),
  });
  const serverDiagnostics = refusedDiagnostics(save.error);
  const edit = (next: string) => {
    setText(next);
    setRefusal(null);
    if (save.isError) save.reset();
  };
  const onSave = () => {
    const errors = check.diagnostics.filter((d) => d.severity === 'error').length;
    if (check.text !== text || errors > 0) {
      setRefusal(
        errors > 0
          ? `Not saved: the config has ${errors} error${errors === 1 ? '' : 's'} (listed below the editor). Fix them first.`
          : 'Still checking: try again.',
      );
      return;
    }
    save.mutate(text);
  };
  const dirty = text !== saved;

  return (
    <div className="grid gap-6 lg:grid-cols-2">
      <div className="min-w-0">
        <KdlEditor value={text} onChange={edit} checked={check} label="Pipeline config (KDL)" describedBy={diagnosticsId} />
        <DiagnosticsList id={diagnosticsId} diagnostics={check.diagnostics} />
        {can('pipeline.update') ? (
          <div className="mt-4 space-y-3">
            <div className="flex flex-wrap gap-2">
              <button type="button" onClick={onSave} disabled={!dirty || save.isPending} className={BUTTON.primary}>
                {save.isPending ? 'Saving…' : 'Save config'}
              </button>
              <button type="button" onClick={() => edit(saved)} disabled={!dirty} className={BUTTON.secondary}>
                Discard changes
              </button>
            </div>
            <Alert error={refusal} />
            {save.isError ? (
              <div role="alert" className="rounded-md bg-red-50 px-4 py-3 text-sm text-red-800 dark:bg-red-950 dark:text-red-200">
                <p>Not saved: {errorMessage(save.error)}</p>
                {serverDiagnostics ? <DiagnosticsList id={`${diagnosticsId}-server`} diagnostics={serverDiagnostics} /> : null}
              </div>
            ) : null}
            {save.isSuccess && !dirty ? (
              <p role="status" className="text-sm text-green-800 dark:text-green-300">
                Saved.
              </p>
            ) : null}
          </div>
        ) : null}
      </div>
      <DagPreview stages={check.stages} />
    </div>
  );
}
