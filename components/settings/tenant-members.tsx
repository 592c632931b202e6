'use client';
// The members of the tenant the user works in, with their tenant roles. Organization owners and admins give a
// member of the organization a role here, change it, or take it away (they act in every tenant anyway).
import type { TenantMember } from '../../lib/api/schemas/tenant-members';
import { apiFetch, errorMessage } from '../app/api-client';
import { usePagedList } from '../app/paged-list';
import { EmptyState, Loading, LoadMore, Section } from '../app/states';
import { useWorkspace } from '../app/workspace';
import { Alert, INPUT, PRIMARY_BUTTON } from '../forms';
import { MemberControls } from './member-controls';
import { useApiMutation } from './mutation';
import { useOrgMembers } from './org-members';

const TENANT_ROLES = ['admin', 'member', 'viewer'] as const;

export function TenantMembers() {
  const { tenant, can } = useWorkspace();
  if (!tenant) return null;
  return <MembersOfTenant tenantId={tenant.id} tenantName={tenant.name} manage={can('tenant_member.manage')} />;
}

function MembersOfTenant({ tenantId, tenantName, manage }: { tenantId: string; tenantName: string; manage: boolean }) {
  const key = ['tenant-members', tenantId];
  const base = `/api/v1/tenants/${tenantId}/members`;
  const members = usePagedList<TenantMember>(key, base, { limit: '100' });
  const setRole = useApiMutation(
    ({ userId, role }: { userId: string; role: string }) => apiFetch(`${base}/${userId}`, { method: 'PUT', body: { role } }),
    [key],
  );
  const remove = useApiMutation((userId: string) => apiFetch(`${base}/${userId}`, { method: 'DELETE' }), [key]);
  return (
    <Section
      title={`Members of the tenant ${tenantName}`}
      description="Viewers read; members also run pipelines; tenant admins also manage pipelines, secrets and approvals."
    >
      <Alert error={setRole.errorText ?? remove.errorText} />
      {manage ? <AddTenantMember onAdd={(userId, role) => setRole.mutate({ userId, role })} members={members.items} pending={setRole.isPending} /> : null}
      {members.isPending ? (
        <Loading what="tenant members" />
      ) : members.isError ? (
        <Alert error={errorMessage(members.error)} />
      ) : members.items.length === 0 ? (
        <EmptyState title="Nobody has a role in this tenant yet">
          Organization owners and admins act in every tenant without one.{' '}
          {manage ? 'Give another member of the organization a role with the form above.' : 'Organization admins give roles in tenants.'}
        </EmptyState>
      ) : (
        <ul aria-label="Tenant members" className="divide-y divide-slate-200 dark:divide-slate-800">
          {members.items.map((member) => (
            <li key={member.userId} className="flex flex-wrap items-center justify-between gap-3 py-3 text-sm">
              <p className="min-w-0 break-all font-medium">{member.name ?? member.email}</p>
              {manage ? (
                <MemberControls
                  role={member.role}
                  roles={TENANT_ROLES}
                  roleLabel={`Tenant role of ${member.email}`}
                  onRole={(role) => setRole.mutate({ userId: member.userId, role })}
                  removeLabel={`Remove ${member.email} from ${tenantName}`}
                  removeQuestion={`Take away the role of ${member.email} in ${tenantName}?`}
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

/** Members of the organization without a role in the tenant, to give one. */
function AddTenantMember({ members, onAdd, pending }: { members: TenantMember[]; onAdd: (userId: string, role: string) => void; pending: boolean }) {
  const organization = useOrgMembers();
  const candidates = organization.items.filter((member) => !members.some((tenantMember) => tenantMember.userId === member.userId));
  if (candidates.length === 0) return null;
  return (
    <form
      className="mb-4 grid grid-cols-1 gap-4 sm:grid-cols-[2fr_1fr_auto] sm:items-end"
      onSubmit={(event) => {
        event.preventDefault();
        const data = new FormData(event.currentTarget);
        onAdd(String(data.get('userId')), String(data.get('role')));
      }}
    >
      <label className="block text-sm font-medium">
        Organization member
        <select name="userId" className={INPUT}>
          {candidates.map((member) => (
            <option key={member.userId} value={member.userId}>
              {member.email}
            </option>
          ))}
        </select>
      </label>
      <label className="block text-sm font-medium">
        Tenant role
        <select name="role" defaultValue="member" className={INPUT}>
          {TENANT_ROLES.map((role) => (
            <option key={role} value={role}>
              {role}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={pending} className={`${PRIMARY_BUTTON} sm:w-auto`}>
        Give role
      </button>
    </form>
  );
}
