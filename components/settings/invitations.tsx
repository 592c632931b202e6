'use client';
// Invitations to the organization (owners and admins): invite by email with a role, see the link once to pass
// on, see the pending ones and revoke them.
import { useState } from 'react';
import type { Invitation } from '../../lib/api/schemas/invitations';
import { apiFetch, errorMessage } from '../app/api-client';
import { usePagedList } from '../app/paged-list';
import { Loading, LoadMore, Section } from '../app/states';
import { useWorkspace } from '../app/workspace';
import { Alert, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON } from '../forms';
import { formatTime } from '../runs-list/format';
import { CopyButton } from './copy-button';
import { confirmed, useApiMutation } from './mutation';
import { ORG_ROLES } from './org-members';

export function Invitations() {
  const { organization } = useWorkspace();
  const base = `/api/v1/organizations/${organization.id}/invitations`;
  const key = ['invitations', organization.id];
  const invitations = usePagedList<Invitation>(key, base, { limit: '100' });
  const [link, setLink] = useState<{ email: string; url: string } | null>(null);
  const invite = useApiMutation(
    (body: { email: string; role: string }) => apiFetch<Invitation & { url: string }>(base, { method: 'POST', body }),
    [key],
    (created) => setLink({ email: created.email, url: created.url }),
  );
  const revoke = useApiMutation((id: string) => apiFetch(`${base}/${id}`, { method: 'DELETE' }), [key]);
  const pending = invitations.items.filter((invitation) => invitation.status === 'pending');
  return (
    <Section title="Invitations" description="Whoever opens the link with the invited email joins with the role chosen. Links expire after 7 days.">
      <form
        className="grid grid-cols-1 gap-4 sm:grid-cols-[2fr_1fr_auto] sm:items-end"
        onSubmit={(event) => {
          event.preventDefault();
          const form = event.currentTarget;
          const data = new FormData(form);
          setLink(null);
          invite.mutate({ email: String(data.get('email') ?? '').trim(), role: String(data.get('role')) }, { onSuccess: () => form.reset() });
        }}
      >
        <div className="sm:col-span-3">
          <Alert error={invite.errorText ?? revoke.errorText} />
        </div>
        <label className="block text-sm font-medium">
          Email to invite
          <input name="email" type="email" required autoComplete="off" className={INPUT} />
        </label>
        <label className="block text-sm font-medium">
          Role
          <select name="role" defaultValue="member" className={INPUT}>
            {ORG_ROLES.map((role) => (
              <option key={role} value={role}>
                {role}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={invite.isPending} className={`${PRIMARY_BUTTON} sm:w-auto`}>
          {invite.isPending ? 'Inviting…' : 'Invite'}
        </button>
      </form>
      {link ? (
        <div className="mt-4 rounded-md bg-blue-50 p-4 text-sm text-blue-900 dark:bg-blue-950 dark:text-blue-100">
          <label className="block font-medium">
            Invitation link for {link.email} (shown once)
            <input readOnly value={link.url} onFocus={(event) => event.currentTarget.select()} className={`${INPUT} font-mono`} />
          </label>
          <div className="mt-2 flex flex-wrap items-center gap-3">
            <CopyButton value={link.url} label="Copy link" />
          </div>
        </div>
      ) : null}
      <h3 className="mt-6 text-sm font-semibold">Pending</h3>
      {invitations.isPending ? (
        <Loading what="invitations" />
      ) : invitations.isError ? (
        <Alert error={errorMessage(invitations.error)} />
      ) : pending.length === 0 ? (
        <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">No pending invitation: invite someone with the form above.</p>
      ) : (
        <ul aria-label="Pending invitations" className="divide-y divide-slate-200 dark:divide-slate-800">
          {pending.map((invitation) => (
            <li key={invitation.id} className="flex flex-wrap items-center justify-between gap-3 py-3 text-sm">
              <div className="min-w-0">
                <p className="break-all font-medium">{invitation.email}</p>
                <p className="text-slate-600 dark:text-slate-400">
                  {invitation.role} · expires {formatTime(invitation.expiresAt)}
                </p>
              </div>
              <button
                type="button"
                aria-label={`Revoke the invitation of ${invitation.email}`}
                disabled={revoke.isPending}
                onClick={() => confirmed(`Revoke the invitation of ${invitation.email}? Its link stops working.`) && revoke.mutate(invitation.id)}
                className={`${SECONDARY_BUTTON} sm:w-auto`}
              >
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
      <LoadMore hasMore={invitations.hasNextPage} loading={invitations.isFetchingNextPage} onClick={() => void invitations.fetchNextPage()} />
    </Section>
  );
}
