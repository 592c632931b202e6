/** Tenants: request/response schemas and operations. */
import { z } from 'zod';
import { defineOperation } from '../operation';
import { Id, PageQuery, Slug, Timestamp, pageOf } from './common';

export const TenantParams = z.object({ tenantId: Id });

export const CreateTenantBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    slug: Slug.optional().meta({ description: 'unique in the organization; derived from the name when omitted' }),
  })
  .strict();

export const UpdateTenantBody = CreateTenantBody.required()
  .partial()
  .refine((body) => Object.keys(body).length > 0, { message: 'nothing to update: give at least one field' });

export const Tenant = z
  .object({
    id: Id,
    organizationId: Id,
    slug: z.string(),
    name: z.string(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Tenant' });
export type Tenant = z.output<typeof Tenant>;

export const listTenants = defineOperation({
  operationId: 'listTenants',
  method: 'GET',
  path: '/api/v1/tenants',
  tag: 'tenants',
  summary: 'List the tenants the caller may see',
  description: 'Organization owners and admins see every tenant of the organization; others see the tenants they are members of.',
  auth: 'token',
  query: PageQuery,
  responses: { 200: { description: 'a page of tenants, newest first', schema: pageOf(Tenant) } },
});

export const createTenant = defineOperation({
  operationId: 'createTenant',
  method: 'POST',
  path: '/api/v1/tenants',
  tag: 'tenants',
  summary: 'Create a tenant (organization owners and admins)',
  auth: 'token',
  body: CreateTenantBody,
  responses: { 201: { description: 'the new tenant', schema: Tenant } },
});

export const getTenant = defineOperation({
  operationId: 'getTenant',
  method: 'GET',
  path: '/api/v1/tenants/{tenantId}',
  tag: 'tenants',
  summary: 'Get one tenant',
  auth: 'token',
  params: TenantParams,
  responses: { 200: { description: 'the tenant', schema: Tenant } },
});

export const updateTenant = defineOperation({
  operationId: 'updateTenant',
  method: 'PATCH',
  path: '/api/v1/tenants/{tenantId}',
  tag: 'tenants',
  summary: 'Rename a tenant or change its slug (organization owners and admins)',
  auth: 'token',
  params: TenantParams,
  body: UpdateTenantBody,
  responses: { 200: { description: 'the updated tenant', schema: Tenant } },
});

export const deleteTenant = defineOperation({
  operationId: 'deleteTenant',
  method: 'DELETE',
  path: '/api/v1/tenants/{tenantId}',
  tag: 'tenants',
  summary: 'Delete a tenant with its pipelines, runs, secrets and memberships (organization owners and admins)',
  description: 'Refused with 409 `tenant_busy` while a run of the tenant is queued or running: cancel it first.',
  auth: 'token',
  params: TenantParams,
  responses: { 204: { description: 'deleted' } },
});

export const tenantOperations = [listTenants, createTenant, getTenant, updateTenant, deleteTenant];
