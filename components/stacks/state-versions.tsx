'use client';
// A stack's state versions, newest (the current state) first: which run or person wrote each (each links to
// its page, state-version.tsx), and "Roll back" to an earlier one (written as a new version) for those who may
// apply, while nothing holds the lock.
import { errorMessage } from '../app/api-client';
import { apiFetch } from '../app/api-client';
import { usePagedList } from '../app/paged-list';
import { EmptyState, LoadMore, Loading, Section } from '../app/states';
import { Alert } from '../forms';
import { BUTTON } from '../pipelines/styles';
import { formatTime } from '../runs-list/format';
import { confirmed, useApiMutation } from '../settings/mutation';
import Link from 'next/link';
import { stackKeys, stackPaths, stackRunHref, stateVersionHref, type StateVersionSummary } from './api';

/** Rolls back to a version (the answer is the new version); the stack and its versions are read again. */
export function useRollback(stackId: string, onDone?: (written: StateVersionSummary) => void) {
  return useApiMutation(
    (version: Pick<StateVersionSummary, 'id'>) => apiFetch<StateVersionSummary>(stackPaths.rollback(version.id), { method: 'POST' }),
    [stackKeys.versions(stackId), stackKeys.one(stackId)],
    onDone,
  );
}

/** Asks first: a rollback changes what the next plan compares against. */
export const confirmRollback = (number: number) => confirmed(`Make version ${number} the current state again?`);

export function StateVersions({ stackId, canRollback }: { stackId: string; canRollback: boolean }) {
  const versions = usePagedList<StateVersionSummary>(stackKeys.versions(stackId), stackPaths.versions(stackId));
  const rollback = useRollback(stackId);
  const current = versions.items[0]?.id;
  return (
    <Section title="State versions" description="Every write of the state is a version; rolling back writes the chosen one again as a new version.">
      <Alert error={rollback.errorText} />
      {versions.isPending ? (
        <Loading what="state versions" />
      ) : versions.isError ? (
        <Alert error={`The state versions could not be loaded: ${errorMessage(versions.error)}`} />
      ) : versions.items.length === 0 ? (
        <EmptyState title="No state yet">The first apply writes the first version.</EmptyState>
      ) : (
        <>
          <ul aria-label="State versions" className="divide-y divide-slate-200 dark:divide-slate-800">
            {versions.items.map((version) => (
              <li key={version.id} className="flex flex-wrap items-center justify-between gap-3 py-3 text-sm">
                <div className="min-w-0">
                  <p className="font-medium">
                    <Link href={stateVersionHref(version.id)} className="text-blue-700 underline dark:text-blue-300">
                      Version {version.number}
                    </Link>
                    {version.id === current ? <span className="ml-2 text-xs text-green-800 dark:text-green-300">current</span> : null}
                  </p>
                  <p className="text-slate-600 dark:text-slate-400">
                    Serial {version.serial} · {formatTime(version.createdAt)} · <WrittenBy version={version} />
                  </p>
                </div>
                {canRollback && version.id !== current ? (
                  <button
                    type="button"
                    aria-label={`Roll back to version ${version.number}`}
                    disabled={rollback.isPending}
                    onClick={() => confirmRollback(version.number) && rollback.mutate(version)}
                    className={BUTTON.secondary}
                  >
                    Roll back
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
          <LoadMore hasMore={versions.hasNextPage} loading={versions.isFetchingNextPage} onClick={() => void versions.fetchNextPage()} />
        </>
      )}
    </Section>
  );
}

export function WrittenBy({ version }: { version: StateVersionSummary }) {
  if (version.rollbackOf !== null)
    return (
      <>
        rollback to version {version.rollbackOf} by {version.createdBy?.email ?? 'someone'}
      </>
    );
  if (version.runId)
    return (
      <Link href={stackRunHref(version.runId)} className="text-blue-700 underline dark:text-blue-300">
        written by a run
      </Link>
    );
  return <>written by {version.createdBy?.email ?? 'terraform'}</>;
}
