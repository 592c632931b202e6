/** Members of an organization: request/response schemas and operations. A member is addressed by its user id. */
import { z } from 'zod';
import { OrgRole } from '../../generated/prisma/enums';
import { defineOperation } from '../operation';
import { Id, PageQuery, Timestamp, pageOf } from './common';
import { OrganizationParams } from './organizations';

export const MemberParams = z.object({ organizationId: Id, userId: Id });

/** Who a member is; shared by organization and tenant members. */
export const memberUserFields = {
  userId: Id,
  email: z.string(),
  name: z.string().nullable(),
  createdAt: Timestamp.meta({ description: 'when the user became a member' }),
};

export const Member = z.object({ ...memberUserFields, role: z.enum(OrgRole) }).meta({ id: 'Member' });
export type Member = z.output<typeof Member>;

export const UpdateMemberBody = z.object({ role: z.enum(OrgRole) }).strict();

export const listMembers = defineOperation({
  operationId: 'listMembers',
  method: 'GET',
  path: '/api/v1/organizations/{organizationId}/members',
  tag: 'organizations',
  summary: 'List the members of an organization',
  auth: 'token',
  params: OrganizationParams,
  query: PageQuery,
  responses: { 200: { description: 'a page of members, newest first', schema: pageOf(Member) } },
});

export const updateMember = defineOperation({
  operationId: 'updateMember',
  method: 'PATCH',
  path: '/api/v1/organizations/{organizationId}/members/{userId}',
  tag: 'organizations',
  summary: "Change a member's role (organization owners and admins)",
  description: 'Only owners grant or take the owner role. 409 `last_owner` when it would leave the organization without an owner.',
  auth: 'token',
  params: MemberParams,
  body: UpdateMemberBody,
  responses: { 200: { description: 'the member with the new role', schema: Member } },
});

export const removeMember = defineOperation({
  operationId: 'removeMember',
  method: 'DELETE',
  path: '/api/v1/organizations/{organizationId}/members/{userId}',
  tag: 'organizations',
  summary: 'Remove a member, or leave the organization (your own user id)',
  description:
    "Removes the membership and the user's tenant memberships in the organization, and revokes the user's API tokens of the organization: their access ends at once. Organization owners and admins remove members (only owners remove owners); any member may leave. 409 `last_owner` for the last owner.",
  auth: 'token',
  params: MemberParams,
  responses: { 204: { description: 'removed' } },
});

export const memberOperations = [listMembers, updateMember, removeMember];
