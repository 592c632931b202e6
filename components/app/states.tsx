// What every page shows around its data: a header, loading (a polite live region), an empty list that says how
// to create the first item, and a "Load more" for keyset pages. The error state is components/forms.tsx's Alert.
import Link from 'next/link';
import type { ReactNode } from 'react';
import { ApiError, errorMessage } from './api-client';
import { Alert, SECONDARY_BUTTON } from '../forms';

export function PageHeader({ title, description, actions }: { title: string; description?: ReactNode; actions?: ReactNode }) {
  return (
    <header className="mb-6 flex flex-wrap items-start justify-between gap-4">
      <div className="min-w-0">
        <h1 className="text-2xl font-semibold tracking-tight">{title}</h1>
        {description ? <p className="mt-1 max-w-prose text-sm text-slate-600 dark:text-slate-400">{description}</p> : null}
      </div>
      {actions ? <div className="flex flex-wrap gap-2">{actions}</div> : null}
    </header>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p role="status" className="py-6 text-sm text-slate-600 dark:text-slate-400">
      Loading {what}…
    </p>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="rounded-lg border border-dashed border-slate-300 px-6 py-10 text-center dark:border-slate-700">
      <p className="font-medium">{title}</p>
      {children ? <div className="mx-auto mt-2 max-w-prose text-sm text-slate-600 dark:text-slate-400">{children}</div> : null}
    </div>
  );
}

/** A bordered panel with a heading, for the sections of a page. */
export function Section({ title, description, children }: { title: string; description?: ReactNode; children: ReactNode }) {
  const id = `section-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return (
    <section aria-labelledby={id} className="mb-8 rounded-lg border border-slate-200 bg-white p-4 sm:p-6 dark:border-slate-800 dark:bg-slate-900">
      <h2 id={id} className="text-lg font-semibold">
        {title}
      </h2>
      {description ? <div className="mt-1 text-sm text-slate-600 dark:text-slate-400">{description}</div> : null}
      <div className="mt-4">{children}</div>
    </section>
  );
}

export function LoadMore({ hasMore, loading, onClick }: { hasMore: boolean; loading: boolean; onClick: () => void }) {
  if (!hasMore) return null;
  return (
    <div className="mt-4">
      <button type="button" onClick={onClick} disabled={loading} className={`${SECONDARY_BUTTON} sm:w-auto`}>
        {loading ? 'Loading…' : 'Load more'}
      </button>
    </div>
  );
}

/**
 * A page whose one resource could not be read: "not found" for a 404 (what an id of another tenant gets too),
 * else the error; and a way back to its list.
 */
export function LoadFailed({ what, error, back }: { what: string; error: unknown; back: { href: string; label: string } }) {
  const missing = error instanceof ApiError && error.status === 404;
  return (
    <div className="space-y-3">
      <h1 className="text-xl font-semibold">{missing ? `${what[0]!.toUpperCase()}${what.slice(1)} not found` : `The ${what} could not be loaded`}</h1>
      <Alert error={missing ? `No ${what} with this id exists, or you may not see it.` : errorMessage(error)} />
      <Link href={back.href} className="text-blue-700 underline dark:text-blue-300">
        {back.label}
      </Link>
    </div>
  );
}
