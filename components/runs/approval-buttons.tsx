'use client';
// "Approve" and "Deny" for a stage waiting for approval (POST .../approve or /deny). The stage stays
// `waiting_approval` until the worker acts on the decision (a second or so); the buttons say so meanwhile.
import { useMutation } from '@tanstack/react-query';
import { apiFetch, errorMessage } from '../app/api-client';
import { Alert } from '../forms';
import type { StageRun } from './run-cache';
import { ACTION_BUTTON, DANGER_BUTTON } from './buttons';

export function ApprovalButtons({ runId, stage }: { runId: string; stage: StageRun }) {
  const decide = useMutation({
    mutationFn: (verb: 'approve' | 'deny') =>
      apiFetch<StageRun>(`/api/v1/runs/${encodeURIComponent(runId)}/stages/${encodeURIComponent(stage.id)}/${verb}`, { method: 'POST' }),
  });
  const decided = decide.isSuccess ? (decide.variables === 'approve' ? 'Approved: starting…' : 'Denied') : null;
  return (
    <div className="space-y-2 px-3 pb-3">
      {decided ? (
        <p role="status" className="text-sm">
          {decided}
        </p>
      ) : (
        <div className="flex gap-2" role="group" aria-label={`Approval of ${stage.stageId}`}>
          <button type="button" className={ACTION_BUTTON} disabled={decide.isPending} onClick={() => decide.mutate('approve')}>
            Approve
          </button>
          <button type="button" className={DANGER_BUTTON} disabled={decide.isPending} onClick={() => decide.mutate('deny')}>
            Deny
          </button>
        </div>
      )}
      <Alert error={decide.isError ? errorMessage(decide.error) : null} />
    </div>
  );
}
