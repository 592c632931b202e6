'use client';
// The organization's audit log (owners and admins): every change, refused write and sign-in, newest first,
// filtered by action, actor and dates, a page at a time.
import { useState } from 'react';
import type { AuditEntry } from '../../lib/api/schemas/audit';
import { errorMessage } from '../app/api-client';
import { usePagedList } from '../app/paged-list';
import { EmptyState, Loading, LoadMore, Section } from '../app/states';
import { useWorkspace } from '../app/workspace';
import { Alert, INPUT, PRIMARY_BUTTON } from '../forms';
import { formatTime } from '../runs-list/format';
import { useOrgMembers } from './org-members';

interface AuditFilters {
  action?: string;
  actorUserId?: string;
  since?: string;
  until?: string;
}

/** The start of a local day (`YYYY-MM-DD` from a date input) as an ISO time; `nextDay` for an inclusive end. */
function dayStart(day: string, nextDay = false): string | undefined {
  if (!day) return undefined;
  const date = new Date(`${day}T00:00:00`);
  if (nextDay) date.setDate(date.getDate() + 1);
  return date.toISOString();
}

export function AuditLogSettings() {
  const { can } = useWorkspace();
  if (!can('audit.read')) return <Alert error="Only owners and admins of the organization read its audit log." />;
  return <AuditLog />;
}

function AuditLog() {
  const { organization } = useWorkspace();
  const [filters, setFilters] = useState<AuditFilters>({});
  const members = useOrgMembers();
  const entries = usePagedList<AuditEntry>(['audit-log', organization.id, filters], `/api/v1/organizations/${organization.id}/audit-log`, { ...filters });
  const actor = (userId: string | null) =>
    userId === null ? 'BuildIt or a service token' : (members.items.find((member) => member.userId === userId)?.email ?? 'a former member');
  return (
    <Section title="Audit log" description="Entries are never changed or deleted.">
      <form
        role="search"
        aria-label="Filter the audit log"
        className="mb-6 grid grid-cols-1 gap-4 sm:grid-cols-2 lg:grid-cols-[repeat(4,minmax(0,1fr))_auto] lg:items-end"
        onSubmit={(event) => {
          event.preventDefault();
          const data = new FormData(event.currentTarget);
          const text = (name: string) => String(data.get(name) ?? '').trim() || undefined;
          setFilters({
            action: text('action'),
            actorUserId: text('actorUserId'),
            since: dayStart(text('since') ?? ''),
            until: dayStart(text('until') ?? '', true),
          });
        }}
      >
        <label className="block text-sm font-medium">
          Action
          <input name="action" placeholder="e.g. secret.set" className={INPUT} />
        </label>
        <label className="block text-sm font-medium">
          Actor
          <select name="actorUserId" className={INPUT}>
            <option value="">Anyone</option>
            {members.items.map((member) => (
              <option key={member.userId} value={member.userId}>
                {member.email}
              </option>
            ))}
          </select>
        </label>
        <label className="block text-sm font-medium">
          From
          <input name="since" type="date" className={INPUT} />
        </label>
        <label className="block text-sm font-medium">
          To
          <input name="until" type="date" className={INPUT} />
        </label>
        <button type="submit" className={`${PRIMARY_BUTTON} sm:w-auto`}>
          Filter
        </button>
      </form>
      {entries.isPending ? (
        <Loading what="the audit log" />
      ) : entries.isError ? (
        <Alert error={errorMessage(entries.error)} />
      ) : entries.items.length === 0 ? (
        <EmptyState title="No entries">
          {Object.values(filters).some(Boolean) ? 'No entry matches these filters.' : 'Changes are recorded here as they happen.'}
        </EmptyState>
      ) : (
        <ul aria-label="Audit entries" className="divide-y divide-slate-200 dark:divide-slate-800">
          {entries.items.map((entry) => (
            <li key={entry.id} className="py-3 text-sm">
              <p className="flex flex-wrap items-baseline gap-x-3">
                <span className="font-mono font-medium">{entry.action}</span>
                {entry.outcome !== 'success' ? <span className="font-medium text-red-700 dark:text-red-300">{entry.outcome}</span> : null}
                <time dateTime={entry.createdAt} className="text-slate-600 dark:text-slate-400">
                  {formatTime(entry.createdAt)}
                </time>
              </p>
              <p className="break-all text-slate-600 dark:text-slate-400">
                by {actor(entry.actorUserId)}
                {entry.targetType ? ` · ${entry.targetType} ${entry.targetId ?? ''}` : ''}
                {entry.ip ? ` · from ${entry.ip}` : ''}
              </p>
            </li>
          ))}
        </ul>
      )}
      <LoadMore hasMore={entries.hasNextPage} loading={entries.isFetchingNextPage} onClick={() => void entries.fetchNextPage()} />
    </Section>
  );
}
