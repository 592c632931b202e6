/** Invitations to an organization (lib/auth/invitations.ts): request/response schemas and operations. */
import { z } from 'zod';
import { INVITATION_TOKEN_PATTERN } from '../../auth/invitations';
import { OrgRole, TenantRole } from '../../generated/prisma/enums';
import { defineOperation } from '../operation';
import { ErrorBody, Id, PageQuery, Timestamp, pageOf } from './common';
import { NewMembershipToken, OrganizationParams } from './organizations';

export const INVITATION_STATUSES = ['pending', 'accepted', 'revoked', 'expired'] as const;
export const DEFAULT_INVITATION_DAYS = 7;
export const MAX_INVITATION_DAYS = 30;

export const InvitationParams = z.object({ organizationId: Id, invitationId: Id });
export const InvitationTokenParams = z.object({ token: z.string().regex(INVITATION_TOKEN_PATTERN, 'not an invitation token') });

const TenantRoles = z
  .record(Id, z.enum(TenantRole))
  .refine((roles) => Object.keys(roles).length <= 100, { message: 'at most 100 tenants' })
  .meta({ description: 'tenant id → role in that tenant, granted on acceptance' });

export const CreateInvitationBody = z
  .object({
    email: z.email().max(320).meta({ description: 'only the user with this email may accept' }),
    role: z.enum(OrgRole).default('member').meta({ description: 'role in the organization (only owners invite owners)' }),
    tenantRoles: TenantRoles.default({}),
    expiresInDays: z.number().int().min(1).max(MAX_INVITATION_DAYS).default(DEFAULT_INVITATION_DAYS),
  })
  .strict();

const invitationFields = {
  id: Id,
  organizationId: Id,
  email: z.string(),
  role: z.enum(OrgRole),
  tenantRoles: z.record(z.string(), z.enum(TenantRole)),
  status: z.enum(INVITATION_STATUSES),
  expiresAt: Timestamp,
  acceptedAt: Timestamp.nullable(),
  acceptedById: Id.nullable(),
  revokedAt: Timestamp.nullable(),
  createdById: Id.nullable(),
  createdAt: Timestamp,
};

export const Invitation = z.object(invitationFields).meta({ id: 'Invitation' });
export type Invitation = z.output<typeof Invitation>;

export const listInvitations = defineOperation({
  operationId: 'listInvitations',
  method: 'GET',
  path: '/api/v1/organizations/{organizationId}/invitations',
  tag: 'organizations',
  summary: 'List the invitations of an organization (owners and admins)',
  auth: 'token',
  params: OrganizationParams,
  query: PageQuery,
  responses: { 200: { description: 'a page of invitations, newest first (never their tokens)', schema: pageOf(Invitation) } },
});

export const createInvitation = defineOperation({
  operationId: 'createInvitation',
  method: 'POST',
  path: '/api/v1/organizations/{organizationId}/invitations',
  tag: 'organizations',
  summary: 'Invite someone by email (owners and admins)',
  description:
    'Returns the invitation with its `token`, shown this once, and its link `url`: give the link to the invitee, who accepts on that page (and, without an account, chooses a password there), or with `POST /api/v1/invitations/{token}/accept`. 409 `already_member` or `invitation_pending` (revoke the pending one first).',
  auth: 'token',
  params: OrganizationParams,
  body: CreateInvitationBody,
  responses: {
    201: {
      description: 'the invitation and its secret token',
      schema: z.object({
        ...invitationFields,
        token: z.string().meta({ description: 'the secret of the invitation link, shown once' }),
        url: z.string().meta({ description: 'the invitation link, `$BUILDIT_PUBLIC_URL/invitations/{token}`: the page where the invitee accepts' }),
      }),
    },
  },
});

export const revokeInvitation = defineOperation({
  operationId: 'revokeInvitation',
  method: 'DELETE',
  path: '/api/v1/organizations/{organizationId}/invitations/{invitationId}',
  tag: 'organizations',
  summary: 'Revoke an invitation (owners and admins)',
  description: 'Its link stops working; revoking twice is a no-op. 409 `invitation_accepted` once accepted: remove the member instead.',
  auth: 'token',
  params: InvitationParams,
  responses: { 204: { description: 'revoked' } },
});

export const acceptInvitation = defineOperation({
  operationId: 'acceptInvitation',
  method: 'POST',
  path: '/api/v1/invitations/{token}/accept',
  tag: 'organizations',
  summary: 'Accept an invitation: join its organization',
  description:
    "The caller's email must be the invitation's (else 404, as for an unknown link). Needs a personal token with the `admin` scope, not restricted to a tenant. 409 `already_member`.",
  auth: 'token',
  params: InvitationTokenParams,
  responses: {
    200: {
      description: 'the organization joined, the role there and a token to act in it',
      schema: z.object({
        organization: z.object({ id: Id, slug: z.string(), name: z.string() }),
        role: z.enum(OrgRole),
        tenantRoles: z.record(z.string(), z.enum(TenantRole)),
        token: NewMembershipToken,
      }),
    },
    410: { description: 'the invitation has expired, was revoked or was already accepted', schema: ErrorBody },
  },
});

export const invitationOperations = [listInvitations, createInvitation, revokeInvitation, acceptInvitation];
