'use client';
// A keyset-paged list of the API (`{items, nextCursor}`, lib/api/pagination.ts) as one TanStack infinite query:
// the pages loaded so far, flattened, and how to load the next one.
import { useInfiniteQuery, type QueryKey } from '@tanstack/react-query';
import { apiFetch } from './api-client';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** `path` may carry a query string already; empty filter values are left out. */
export function pagePath(path: string, params: Record<string, string | undefined>, cursor: string | null): string {
  const url = new URL(path, 'http://buildit.invalid');
  for (const [name, value] of Object.entries(params)) if (value) url.searchParams.set(name, value);
  if (cursor) url.searchParams.set('cursor', cursor);
  return `${url.pathname}${url.search}`;
}

export function usePagedList<T>(queryKey: QueryKey, path: string, params: Record<string, string | undefined> = {}, enabled = true) {
  const query = useInfiniteQuery({
    queryKey,
    queryFn: ({ pageParam }) => apiFetch<Page<T>>(pagePath(path, params, pageParam)),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    enabled,
  });
  return {
    ...query,
    items: query.data?.pages.flatMap((page) => page.items) ?? [],
  };
}
