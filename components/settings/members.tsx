'use client';
// Settings › Members: the organization's members, its invitations (for those who manage them) and the
// members of the current tenant.
import { useWorkspace } from '../app/workspace';
import { Alert } from '../forms';
import { Invitations } from './invitations';
import { OrgMembers } from './org-members';
import { TenantMembers } from './tenant-members';

export function MembersSettings() {
  const { can } = useWorkspace();
  return (
    <>
      {can('member.list') ? <OrgMembers /> : <Alert error="Your role does not let you see the members of the organization." />}
      {can('invitation.manage') ? <Invitations /> : null}
      <TenantMembers />
    </>
  );
}
