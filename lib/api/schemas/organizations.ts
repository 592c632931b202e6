/** Organizations: request/response schemas and operations. */
import { z } from 'zod';
import { OrgRole } from '../../generated/prisma/enums';
import { defineOperation } from '../operation';
import { Id, PageQuery, Slug, Timestamp, pageOf } from './common';

export const OrganizationParams = z.object({ organizationId: Id });

const EmailDomain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/, 'a domain name such as example.com');

export const CreateOrganizationBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    slug: Slug.optional().meta({ description: 'unique among all organizations; derived from the name when omitted' }),
  })
  .strict();

export const UpdateOrganizationBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    slug: Slug,
    allowedEmailDomains: z
      .array(EmailDomain)
      .max(50)
      .meta({ description: 'users whose verified email is in one of these domains may join at sign-in without an invitation' }),
  })
  .partial()
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: 'nothing to update: give at least one field' });

export const Organization = z
  .object({
    id: Id,
    slug: z.string(),
    name: z.string(),
    allowedEmailDomains: z.array(z.string()),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Organization' });
export type Organization = z.output<typeof Organization>;

/** One organization of the caller, as listed for switching between them. */
export const UserOrganization = z
  .object({
    id: Id,
    slug: z.string(),
    name: z.string(),
    role: z.enum(OrgRole).meta({ description: "the caller's role in the organization" }),
    current: z.boolean().meta({ description: 'true for the organization the credential acts in' }),
  })
  .meta({ id: 'UserOrganization' });

/** The token that comes with a new membership, shown once. */
export const NewMembershipToken = z.string().meta({
  description:
    "a personal API token (`admin` scope, no expiry) of the caller in this organization, shown once: API tokens act in one organization each. Revoke it when you do not need it; it never exceeds the caller's role.",
});

export const listOrganizations = defineOperation({
  operationId: 'listOrganizations',
  method: 'GET',
  path: '/api/v1/organizations',
  tag: 'organizations',
  summary: 'List the organizations the caller belongs to',
  description:
    'Every organization the caller is a member of, with the role there; `current` marks the one this token acts in (tokens act in one organization).',
  auth: 'token',
  query: PageQuery,
  responses: { 200: { description: 'a page of organizations, newest membership first', schema: pageOf(UserOrganization) } },
});

export const createOrganization = defineOperation({
  operationId: 'createOrganization',
  method: 'POST',
  path: '/api/v1/organizations',
  tag: 'organizations',
  summary: 'Create an organization owned by the caller',
  description:
    'Any user may create an organization and becomes its owner. Needs a personal token with the `admin` scope, not restricted to a tenant. The response carries a new token of the caller in the new organization (tokens act in one organization each).',
  auth: 'token',
  body: CreateOrganizationBody,
  responses: {
    201: { description: 'the new organization and a token to act in it', schema: z.object({ organization: Organization, token: NewMembershipToken }) },
  },
});

export const getOrganization = defineOperation({
  operationId: 'getOrganization',
  method: 'GET',
  path: '/api/v1/organizations/{organizationId}',
  tag: 'organizations',
  summary: 'Get an organization',
  auth: 'token',
  params: OrganizationParams,
  responses: { 200: { description: 'the organization', schema: Organization } },
});

export const updateOrganization = defineOperation({
  operationId: 'updateOrganization',
  method: 'PATCH',
  path: '/api/v1/organizations/{organizationId}',
  tag: 'organizations',
  summary: 'Change the name, slug or admitted email domains of an organization (owners)',
  auth: 'token',
  params: OrganizationParams,
  body: UpdateOrganizationBody,
  responses: { 200: { description: 'the updated organization', schema: Organization } },
});

export const organizationOperations = [listOrganizations, createOrganization, getOrganization, updateOrganization];
