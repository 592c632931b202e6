'use client';
// The organization's members and their roles; owners and admins change roles and remove members (the API
// refuses what only owners may do, such as granting the owner role, with a message shown in the alert).
import type { Member } from '../../lib/api/schemas/members';
import { apiFetch, errorMessage } from '../app/api-client';
import { usePagedList } from '../app/paged-list';
import { EmptyState, Loading, LoadMore, Section } from '../app/states';
import { useWorkspace } from '../app/workspace';
import { Alert } from '../forms';
import { MemberControls } from './member-controls';
import { useApiMutation } from './mutation';

export const ORG_ROLES = ['owner', 'admin', 'member'] as const;
export const orgMembersKey = (organizationId: string) => ['org-members', organizationId];

export function useOrgMembers() {
  const { organization } = useWorkspace();
  return usePagedList<Member>(orgMembersKey(organization.id), `/api/v1/organizations/${organization.id}/members`, { limit: '100' });
}

export function OrgMembers() {
  const { organization, user, can } = useWorkspace();
  const members = useOrgMembers();
  const base = `/api/v1/organizations/${organization.id}/members`;
  const changes = [orgMembersKey(organization.id)];
  const setRole = useApiMutation(
    ({ userId, role }: { userId: string; role: string }) => apiFetch(`${base}/${userId}`, { method: 'PATCH', body: { role } }),
    changes,
  );
  const remove = useApiMutation((userId: string) => apiFetch(`${base}/${userId}`, { method: 'DELETE' }), changes);
  const manage = can('member.manage');
  return (
    <Section
      title={`Members of ${organization.name}`}
      description="Owners do everything; admins manage tenants, members and every tenant; members see the tenants where they have a role."
    >
      <Alert error={setRole.errorText ?? remove.errorText} />
      {members.isPending ? (
        <Loading what="members" />
      ) : members.isError ? (
        <Alert error={errorMessage(members.error)} />
      ) : members.items.length === 0 ? (
        <EmptyState title="No members">Invite the first one below.</EmptyState>
      ) : (
        <ul aria-label="Organization members" className="divide-y divide-slate-200 dark:divide-slate-800">
          {members.items.map((member) => (
            <li key={member.userId} className="flex flex-wrap items-center justify-between gap-3 py-3 text-sm">
              <div className="min-w-0">
                <p className="break-all font-medium">{member.name ?? member.email}</p>
                {member.name ? <p className="break-all text-slate-600 dark:text-slate-400">{member.email}</p> : null}
              </div>
              {manage && member.email !== user.email ? (
                <MemberControls
                  role={member.role}
                  roles={ORG_ROLES}
                  roleLabel={`Role of ${member.email}`}
                  onRole={(role) => setRole.mutate({ userId: member.userId, role })}
                  removeLabel={`Remove ${member.email}`}
                  removeQuestion={`Remove ${member.email} from ${organization.name}? Their tokens stop working at once.`}
                  onRemove={() => remove.mutate(member.userId)}
                  pending={setRole.isPending || remove.isPending}
                />
              ) : (
                <span className="text-slate-600 dark:text-slate-400">{member.role}</span>
              )}
            </li>
          ))}
        </ul>
      )}
      <LoadMore hasMore={members.hasNextPage} loading={members.isFetchingNextPage} onClick={() => void members.fetchNextPage()} />
    </Section>
  );
}
