// The stages of the run, in plan order: status, attempt, duration and why they ended so; selecting one opens
// its log. A stage waiting for approval offers "Approve" and "Deny" to those allowed; one waiting for its
// `lock` says which lock and which run holds it.
import Link from 'next/link';
import { elapsed } from './format';
import type { StageRun } from './run-cache';
import { ApprovalButtons } from './approval-buttons';
import { StatusBadge } from './status-badge';

interface Props {
  runId: string;
  stages: StageRun[];
  selectedId: string | null;
  onSelect: (stageId: string) => void;
  canApprove: boolean;
  now: number;
}

export function StageList({ runId, stages, selectedId, onSelect, canApprove, now }: Props) {
  if (stages.length === 0) return <p className="text-sm text-slate-600 dark:text-slate-300">This run has no stages.</p>;
  return (
    <section aria-label="Stages" className="rounded-lg border border-slate-200 dark:border-slate-700">
      <ol className="divide-y divide-slate-200 dark:divide-slate-700">
        {stages.map((stage) => {
          const duration = elapsed(stage.startedAt, stage.finishedAt, now);
          return (
            <li key={stage.id} className={stage.stageId === selectedId ? 'bg-blue-50 dark:bg-slate-800' : ''}>
              <button
                type="button"
                aria-current={stage.stageId === selectedId ? 'true' : undefined}
                onClick={() => onSelect(stage.stageId)}
                className="flex w-full flex-wrap items-center gap-x-2 gap-y-1 px-3 py-2 text-left text-sm hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-inset focus-visible:ring-blue-500 dark:hover:bg-slate-800"
              >
                <span className="min-w-0 flex-1 truncate font-medium">{stage.stageId}</span>
                <StatusBadge status={stage.status} />
                <span className="w-full text-xs text-slate-600 dark:text-slate-300">
                  Attempt {stage.attempt}
                  {duration && ` · ${duration}`}
                  {stage.reason && ` · ${stage.reason}`}
                </span>
              </button>
              {stage.status === 'queued' && stage.waitingFor && <LockWait wait={stage.waitingFor} />}
              {stage.status === 'waiting_approval' && canApprove && <ApprovalButtons runId={runId} stage={stage} />}
            </li>
          );
        })}
      </ol>
    </section>
  );
}

function LockWait({ wait }: { wait: NonNullable<StageRun['waitingFor']> }) {
  return (
    <p role="status" className="px-3 pb-2 text-xs text-slate-600 dark:text-slate-300">
      Waiting for lock <code className="font-mono">{wait.lock}</code>
      {wait.runId ? (
        <>
          {', held by '}
          <Link href={`/runs/${wait.runId}`} className="text-blue-700 underline dark:text-blue-300">
            run #{wait.runNumber}
            {wait.stage && ` (${wait.stage})`}
          </Link>
        </>
      ) : (
        ', behind stages that asked earlier'
      )}
    </p>
  );
}
