/** Members of a tenant: request/response schemas and operations. A tenant member is addressed by its user id. */
import { z } from 'zod';
import { TenantRole } from '../../generated/prisma/enums';
import { defineOperation } from '../operation';
import { Id, PageQuery, pageOf } from './common';
import { memberUserFields } from './members';
import { TenantParams } from './tenants';

export const TenantMemberParams = z.object({ tenantId: Id, userId: Id });

export const TenantMember = z.object({ ...memberUserFields, role: z.enum(TenantRole) }).meta({ id: 'TenantMember' });
export type TenantMember = z.output<typeof TenantMember>;

export const SetTenantMemberBody = z.object({ role: z.enum(TenantRole) }).strict();

export const listTenantMembers = defineOperation({
  operationId: 'listTenantMembers',
  method: 'GET',
  path: '/api/v1/tenants/{tenantId}/members',
  tag: 'tenants',
  summary: 'List the members of a tenant',
  description: 'Organization owners and admins see every member of the organization in every tenant, without a tenant membership.',
  auth: 'token',
  params: TenantParams,
  query: PageQuery,
  responses: { 200: { description: 'a page of tenant members, newest first', schema: pageOf(TenantMember) } },
});

export const setTenantMember = defineOperation({
  operationId: 'setTenantMember',
  method: 'PUT',
  path: '/api/v1/tenants/{tenantId}/members/{userId}',
  tag: 'tenants',
  summary: 'Give a member of the organization a role in the tenant, or change it (organization owners and admins)',
  auth: 'token',
  params: TenantMemberParams,
  body: SetTenantMemberBody,
  responses: { 200: { description: 'the tenant member', schema: TenantMember } },
});

export const removeTenantMember = defineOperation({
  operationId: 'removeTenantMember',
  method: 'DELETE',
  path: '/api/v1/tenants/{tenantId}/members/{userId}',
  tag: 'tenants',
  summary: 'Remove a member from the tenant (organization owners and admins)',
  description: 'The user stays a member of the organization.',
  auth: 'token',
  params: TenantMemberParams,
  responses: { 204: { description: 'removed' } },
});

export const tenantMemberOperations = [listTenantMembers, setTenantMember, removeTenantMember];
