// Pieces every paged list of the pipeline pages shares: the loading placeholder and "Load more".
import type { UseInfiniteQueryResult } from '@tanstack/react-query';
import { errorMessage } from '../app/api-client';
import { Alert } from '../forms';
import { BUTTON } from './styles';

export function ListSkeleton({ label }: { label: string }) {
  return (
    <div role="status" aria-label={label} className="space-y-2">
      {[0, 1, 2].map((row) => (
        <div key={row} className="h-12 animate-pulse rounded-md bg-slate-200 dark:bg-slate-800" />
      ))}
    </div>
  );
}

export function LoadMore({ query }: { query: UseInfiniteQueryResult }) {
  if (query.isFetchNextPageError) return <Alert error={`The next page could not be loaded: ${errorMessage(query.error)}`} />;
  if (!query.hasNextPage) return null;
  return (
    <button type="button" onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage} className={BUTTON.secondary}>
      {query.isFetchingNextPage ? 'Loading…' : 'Load more'}
    </button>
  );
}
