'use client';
// What a person may do with a run now: Approve or Discard a plan that waits for approval (stack.apply,
// audited), Cancel a run that is not over (stack.plan). The answer is the run as it now is.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { apiFetch, errorMessage } from '../app/api-client';
import { useWorkspace } from '../app/workspace';
import { Alert } from '../forms';
import { ACTION_BUTTON, DANGER_BUTTON, SECONDARY_ACTION_BUTTON } from '../runs/buttons';
import { isFinished, stackKeys, stackPaths, type StackRun } from '../stacks/api';

type Action = 'approve' | 'discard' | 'cancel';

const APPLYING_KINDS: ReadonlyArray<StackRun['kind']> = ['apply', 'destroy'];

export function DecisionButtons({ run }: { run: StackRun }) {
  const { can } = useWorkspace();
  const queryClient = useQueryClient();
  const act = useMutation({
    mutationFn: (action: Action) => apiFetch<StackRun>(stackPaths.runAction(run.id, action), { method: 'POST' }),
    onSuccess: (updated) => {
      queryClient.setQueryData(stackKeys.run(run.id), updated);
      void queryClient.invalidateQueries({ queryKey: stackKeys.one(run.stackId) });
    },
  });
  // A plan is decided on once it is stored (its attribute changes in): an auto-apply stack's run is approved then.
  const planned = run.status === 'planned' && run.plan?.attributes !== 'pending';
  const canDecide = can('stack.apply') && planned;
  const canApprove = canDecide && APPLYING_KINDS.includes(run.kind) && !run.stale;
  // A planned run is discarded by those who may decide; others may still cancel it.
  const canCancel = can('stack.plan') && !isFinished(run.status) && run.cancelRequestedAt === null && !canDecide;
  if (!canDecide && !canCancel) {
    return planned && !can('stack.apply') ? (
      <p className="text-sm text-slate-600 dark:text-slate-400">This plan waits for a tenant admin to approve or discard it.</p>
    ) : null;
  }
  return (
    <div className="space-y-2">
      <div role="group" aria-label="Decision on this run" className="flex flex-wrap gap-2">
        {canApprove ? (
          <button type="button" className={ACTION_BUTTON} disabled={act.isPending} onClick={() => act.mutate('approve')}>
            Approve
          </button>
        ) : null}
        {canDecide ? (
          <button type="button" className={DANGER_BUTTON} disabled={act.isPending} onClick={() => act.mutate('discard')}>
            Discard
          </button>
        ) : null}
        {canCancel ? (
          <button type="button" className={SECONDARY_ACTION_BUTTON} disabled={act.isPending} onClick={() => act.mutate('cancel')}>
            Cancel run
          </button>
        ) : null}
      </div>
      <Alert error={act.isError ? errorMessage(act.error) : null} />
    </div>
  );
}
