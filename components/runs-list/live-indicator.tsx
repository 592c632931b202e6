// Whether a list follows run events now: people (and tests) can tell a live list from one that is connecting.
export function LiveIndicator({ live }: { live: boolean }) {
  return (
    <p role="status" className="flex items-center gap-2 text-xs text-slate-600 dark:text-slate-400">
      <span aria-hidden="true" className={`inline-block h-2 w-2 rounded-full ${live ? 'bg-green-600 dark:bg-green-400' : 'bg-slate-400 dark:bg-slate-500'}`} />
      {live ? 'Updates live' : 'Connecting for live updates…'}
    </p>
  );
}
