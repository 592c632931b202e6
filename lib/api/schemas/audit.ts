/** The audit log: query and response schemas and the one (read-only) operation. */
import { z } from 'zod';
import { AuditOutcome } from '../../generated/prisma/enums';
import { defineOperation } from '../operation';
import { Id, PageQuery, Timestamp, pageOf } from './common';
import { OrganizationParams } from './organizations';

export const AuditLogQuery = PageQuery.extend({
  actorUserId: Id.optional().meta({ description: 'only what this user did' }),
  actorTokenId: Id.optional().meta({ description: 'only what was done with this token' }),
  action: z.string().min(1).max(100).optional().meta({ description: 'only this action, e.g. `pipeline.update`' }),
  outcome: z.enum(AuditOutcome).optional(),
  tenantId: Id.optional().meta({ description: 'only entries about this tenant' }),
  targetType: z.string().min(1).max(100).optional().meta({ description: 'only entries about this kind of resource: `pipeline`, `run`, `token`, ...' }),
  targetId: z.string().min(1).max(200).optional().meta({ description: 'only entries about this resource' }),
  since: Timestamp.optional().meta({ description: 'entries at or after this time' }),
  until: Timestamp.optional().meta({ description: 'entries before this time' }),
});

export const AuditEntry = z
  .object({
    id: Id,
    organizationId: Id.nullable(),
    tenantId: Id.nullable(),
    actorUserId: Id.nullable().meta({ description: 'the user; null for the system itself and for service tokens' }),
    actorTokenId: Id.nullable().meta({ description: 'the API token used' }),
    action: z.string(),
    outcome: z.enum(AuditOutcome).meta({ description: '`denied`: refused by authorization; `failed`: attempted and failed (sign-in)' }),
    targetType: z.string().nullable(),
    targetId: z.string().nullable(),
    details: z.unknown().meta({ description: 'what else the action recorded (names, fields changed, the refusal message)' }),
    ip: z.string().nullable().meta({ description: 'client address, as reported by the proxy in front' }),
    userAgent: z.string().nullable(),
    createdAt: Timestamp,
  })
  .meta({ id: 'AuditEntry' });
export type AuditEntry = z.output<typeof AuditEntry>;

export const listAuditLog = defineOperation({
  operationId: 'listAuditLog',
  method: 'GET',
  path: '/api/v1/organizations/{organizationId}/audit-log',
  tag: 'audit',
  summary: "The organization's audit log (organization owners and admins)",
  description:
    'Every change, refused write and sign-in, newest first, filtered by every parameter given. Entries are never changed or deleted ' +
    '(there is no route for it, and the database refuses it).',
  auth: 'token',
  params: OrganizationParams,
  query: AuditLogQuery,
  responses: { 200: { description: 'a page of entries, newest first', schema: pageOf(AuditEntry) } },
});

export const auditOperations = [listAuditLog];
