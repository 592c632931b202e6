'use client';
// Who holds a stack's state lock (a run of BuildIt, or a person's terraform), and "Force unlock" for those
// who may apply the stack: for a lock whose holder is gone.
import Link from 'next/link';
import { apiFetch } from '../app/api-client';
import { Alert } from '../forms';
import { BUTTON } from '../pipelines/styles';
import { formatTime } from '../runs-list/format';
import { confirmed, useApiMutation } from '../settings/mutation';
import { stackKeys, stackPaths, stackRunHref, type Stack } from './api';

type Lock = NonNullable<Stack['lock']>;

/** "run abc…", "ana@example.com (ana@laptop)": the holder in words. */
export function lockHolder(lock: Lock): string {
  const { heldBy } = lock;
  const who = heldBy.kind === 'run' ? 'a run of BuildIt' : (heldBy.email ?? 'a person');
  return lock.who ? `${who} (${lock.who})` : who;
}

/** `OperationTypeApply` → "an apply". */
const operationOf = (lock: Lock) => {
  const name = lock.operation?.replace(/^OperationType/, '').toLowerCase();
  return name ? `${/^[aeiou]/.test(name) ? 'an' : 'a'} ${name}` : 'an operation';
};

export function LockNotice({ stackId, lock, canUnlock }: { stackId: string; lock: Lock; canUnlock: boolean }) {
  const unlock = useApiMutation(() => apiFetch(stackPaths.lock(stackId), { method: 'DELETE' }), [stackKeys.one(stackId)]);
  const confirmAndUnlock = () =>
    confirmed('Force-unlock the state? Only do this when its holder is gone: two writers at once can corrupt the state.') && unlock.mutate();
  return (
    <div
      role="status"
      className="mb-6 space-y-2 rounded-lg border border-amber-500 bg-amber-50 p-4 text-amber-950 dark:border-amber-400 dark:bg-amber-950 dark:text-amber-50"
    >
      <p>
        The state is locked by <strong>{lockHolder(lock)}</strong> for {operationOf(lock)} since {formatTime(lock.createdAt)}.
        {lock.heldBy.kind === 'run' && lock.heldBy.runId ? (
          <>
            {' '}
            <Link href={stackRunHref(lock.heldBy.runId)} className="underline focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600">
              The run holding it
            </Link>
          </>
        ) : null}
      </p>
      {canUnlock ? (
        <button type="button" onClick={confirmAndUnlock} disabled={unlock.isPending} className={BUTTON.danger}>
          {unlock.isPending ? 'Unlocking…' : 'Force unlock'}
        </button>
      ) : null}
      <Alert error={unlock.errorText} />
    </div>
  );
}
