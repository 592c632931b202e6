'use client';
// What may be done with the run, for those allowed: "Cancel run" while it is queued or running; "Re-run"
// and "Re-run failed" (only the stages that did not succeed, reusing the others) once it has finished.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { apiFetch, errorMessage } from '../app/api-client';
import { useWorkspace } from '../app/workspace';
import { Alert } from '../forms';
import { ACTION_BUTTON, DANGER_BUTTON, SECONDARY_ACTION_BUTTON } from './buttons';
import { isFinishedRun, runKey, type Run } from './run-cache';

export function RunActions({ run }: { run: Run }) {
  const { can } = useWorkspace();
  const queryClient = useQueryClient();
  const router = useRouter();
  const path = `/api/v1/runs/${encodeURIComponent(run.id)}`;
  const cancel = useMutation({
    mutationFn: () => apiFetch<Run>(`${path}/cancel`, { method: 'POST' }),
    onSuccess: (updated) => queryClient.setQueryData(runKey(run.id), updated),
  });
  const rerun = useMutation({
    mutationFn: (failedOnly: boolean) => apiFetch<Run>(`${path}/rerun`, { method: 'POST', body: { failedOnly } }),
    onSuccess: (created) => {
      queryClient.setQueryData(runKey(created.id), created);
      router.push(`/runs/${created.id}`);
    },
  });

  const finished = isFinishedRun(run);
  const someFailed = run.stages.some((stage) => stage.status === 'failed' || stage.status === 'cancelled');
  const offerCancel = !finished && can('run.cancel');
  const offerRerun = finished && can('run.trigger');
  if (!offerCancel && !offerRerun) return null;
  const error = cancel.error ?? rerun.error;
  return (
    <div className="space-y-2">
      <div className="flex flex-wrap gap-2">
        {offerCancel && (
          <button type="button" className={DANGER_BUTTON} disabled={cancel.isPending || run.cancelRequestedAt !== null} onClick={() => cancel.mutate()}>
            Cancel run
          </button>
        )}
        {offerRerun && (
          <button type="button" className={ACTION_BUTTON} disabled={rerun.isPending} onClick={() => rerun.mutate(false)}>
            Re-run
          </button>
        )}
        {offerRerun && someFailed && (
          <button type="button" className={SECONDARY_ACTION_BUTTON} disabled={rerun.isPending} onClick={() => rerun.mutate(true)}>
            Re-run failed
          </button>
        )}
      </div>
      <Alert error={error ? errorMessage(error) : null} />
    </div>
  );
}
