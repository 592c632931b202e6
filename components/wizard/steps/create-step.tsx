// The last step: a summary, "run it now", and "Create pipeline". A config with errors is not sent (the review
// step lists them); the API's own refusal is shown with its diagnostics.
import { useMutation } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import type { Diagnostic } from '../../../lib/pipeline';
import { ApiError, errorMessage } from '../../app/api-client';
import { useWorkspace } from '../../app/workspace';
import { DiagnosticsList } from '../../editor/diagnostics-list';
import { checkPipelineText } from '../../editor/check';
import { Alert } from '../../forms';
import { BUTTON } from '../../pipelines/styles';
import { createFromDraft, type Created } from '../create';
import type { StepProps } from './step-props';

interface CreateStepProps extends StepProps {
  kdl: string;
  /** Called once the pipeline exists: the draft is done. */
  onCreated: () => void;
}

export function CreateStep({ draft, update, kdl, onCreated }: CreateStepProps) {
  const router = useRouter();
  const { tenants } = useWorkspace();
  const errors = checkPipelineText(kdl).diagnostics.filter((d) => d.severity === 'error').length;
  const create = useMutation({
    mutationFn: () => createFromDraft(draft, kdl),
    onSuccess: ({ pipeline, run, runError }: Created) => {
      onCreated();
      if (!runError) router.push(run ? `/runs/${run.id}` : `/pipelines/${pipeline.id}`);
    },
  });
  const refused =
    create.error instanceof ApiError && create.error.code === 'invalid_pipeline' && Array.isArray(create.error.details)
      ? (create.error.details as Diagnostic[])
      : null;
  const stageCount = draft.stages.length;

  return (
    <div className="space-y-4">
      <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
        <dt className="font-medium">Name</dt>
        <dd className="break-words">{draft.name || '—'}</dd>
        <dt className="font-medium">Tenant</dt>
        <dd>{tenants.find((tenant) => tenant.id === draft.tenantId)?.name ?? '—'}</dd>
        <dt className="font-medium">Repository</dt>
        <dd className="break-all">{draft.repository || 'none (no checkout)'}</dd>
        <dt className="font-medium">Branch</dt>
        <dd>{draft.branch}</dd>
        <dt className="font-medium">Stages</dt>
        <dd>{stageCount}</dd>
      </dl>
      <label className="flex items-center gap-2 text-sm font-medium">
        <input type="checkbox" checked={draft.runNow} onChange={(event) => update({ runNow: event.target.checked })} className="h-4 w-4" />
        Run it now on {draft.branch || 'the default branch'}
      </label>
      {errors > 0 ? (
        <Alert error={`The pipeline has ${errors} error${errors === 1 ? '' : 's'}: go back to the review step to fix ${errors === 1 ? 'it' : 'them'}.`} />
      ) : null}
      <button type="button" onClick={() => create.mutate()} disabled={errors > 0 || create.isPending || create.isSuccess} className={BUTTON.primary}>
        {create.isPending || create.isSuccess ? 'Creating…' : 'Create pipeline'}
      </button>
      {create.isError ? (
        <div role="alert" className="rounded-md bg-red-50 px-4 py-3 text-sm text-red-800 dark:bg-red-950 dark:text-red-200">
          <p>{errorMessage(create.error)}</p>
          {refused ? <DiagnosticsList id="create-diagnostics" diagnostics={refused} /> : null}
        </div>
      ) : null}
      {create.data?.runError ? (
        <div role="alert" className="rounded-md bg-amber-50 px-4 py-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-100">
          The pipeline was created, but the run did not start: {create.data.runError}{' '}
          <Link href={`/pipelines/${create.data.pipeline.id}`} className="font-medium underline">
            Open {create.data.pipeline.name}
          </Link>
        </div>
      ) : null}
    </div>
  );
}
