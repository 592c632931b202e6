/** Reading the audit log (writing it: lib/api/audit.ts). */
import type { z } from 'zod';
import type { Actor } from '../../auth/authorize';
import type { AuditLog } from '../../generated/prisma/client';
import type { PrismaClient } from '../db';
import { requireOrganizationAction } from '../access';
import { keysetArgs, toPage } from '../pagination';
import type { AuditLogQuery } from '../schemas/audit';

function auditEntryDto(row: AuditLog) {
  return {
    id: row.id,
    organizationId: row.organizationId,
    tenantId: row.tenantId,
    actorUserId: row.actorUserId,
    actorTokenId: row.actorApiKeyId,
    action: row.action,
    outcome: row.outcome,
    targetType: row.targetType,
    targetId: row.targetId,
    details: row.details,
    ip: row.ip,
    userAgent: row.userAgent,
    createdAt: row.createdAt,
  };
}

export async function listAuditLog(prisma: PrismaClient, actor: Actor, organizationId: string, query: z.output<typeof AuditLogQuery>) {
  requireOrganizationAction(actor, 'audit.read', organizationId);
  const keyset = keysetArgs(query);
  const rows = await prisma.auditLog.findMany({
    where: {
      AND: [
        {
          organizationId,
          actorUserId: query.actorUserId,
          actorApiKeyId: query.actorTokenId,
          action: query.action,
          outcome: query.outcome,
          tenantId: query.tenantId,
          targetType: query.targetType,
          targetId: query.targetId,
          createdAt: { gte: query.since ? new Date(query.since) : undefined, lt: query.until ? new Date(query.until) : undefined },
        },
        keyset.where,
      ],
    },
    orderBy: keyset.orderBy,
    take: keyset.take,
  });
  return toPage(rows, query, auditEntryDto);
}
