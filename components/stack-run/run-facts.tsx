// Who started a stack run and how, who approved it and when, when it ran, and why it ended badly.
import { FactList } from '../app/facts';
import { formatTime } from '../runs-list/format';
import type { StackRun } from '../stacks/api';

export function RunFacts({ run }: { run: StackRun }) {
  const facts: Array<[string, string]> = [
    ['Triggered by', `${run.triggeredBy?.email ?? run.triggeredByName ?? 'BuildIt'} (${run.event}) · ${formatTime(run.createdAt)}`],
  ];
  if (run.approvedBy || run.approvedAt)
    facts.push(['Approved by', `${run.approvedBy?.email ?? 'auto-apply'}${run.approvedAt ? ` · ${formatTime(run.approvedAt)}` : ''}`]);
  if (run.startedAt) facts.push(['Started', formatTime(run.startedAt)]);
  if (run.finishedAt) facts.push(['Finished', formatTime(run.finishedAt)]);
  if (run.commitSha) facts.push(['Commit', run.commitSha.slice(0, 12)]);
  if (run.planStateVersion !== null) facts.push(['Planned against', `state version ${run.planStateVersion}`]);
  return (
    <div className="space-y-2 rounded-lg border border-slate-200 bg-white p-4 text-sm dark:border-slate-800 dark:bg-slate-900">
      <FactList facts={facts} />
      {run.reason ? <p className="text-red-800 dark:text-red-300">{run.reason}</p> : null}
      {run.stale ? (
        <p className="text-amber-800 dark:text-amber-300">The state changed since this plan was made: it cannot be applied. Start a new plan.</p>
      ) : null}
    </div>
  );
}
