/** Organizations: what the API does, independent of HTTP. */
import type { z } from 'zod';
import { createApiKey } from '../../auth/api-keys';
import type { Actor } from '../../auth/authorize';
import type { RequestOrigin } from '../../auth/request-origin';
import type { OrgRole } from '../../generated/prisma/enums';
import type { PrismaClient, Tx } from '../db';
import { requireOrganizationAction, requireSelfService } from '../access';
import { recordAudit } from '../audit';
import { keysetArgs, toPage, type PageRequest } from '../pagination';
import type { CreateOrganizationBody, UpdateOrganizationBody } from '../schemas/organizations';
import { organizationDto } from '../serialize';
import { conflictAs } from './conflict';
import { slugify } from '../../slug';

export async function listOrganizations(prisma: PrismaClient, actor: Actor, page: PageRequest) {
  requireSelfService(actor, 'read', 'list your organizations');
  const keyset = keysetArgs(page);
  const rows = await prisma.orgMembership.findMany({
    where: { AND: [{ userId: actor.userId }, keyset.where] },
    include: { organization: { select: { id: true, slug: true, name: true } } },
    orderBy: keyset.orderBy,
    take: keyset.take,
  });
  return toPage(rows, page, ({ organization, role }) => ({ ...organization, role, current: organization.id === actor.organizationId }));
}

/**
 * API tokens act in one organization each, so a user who joins or creates another one gets a token there
 * (shown once): it is how the API reaches the new organization until sessions can switch.
 */
export async function issueMembershipToken(tx: Tx, userId: string, organizationId: string, role: OrgRole): Promise<{ token: string; apiKeyId: string }> {
  const { token, apiKey } = await createApiKey(tx, { organizationId, userId, name: `issued on joining as ${role}`, scopes: ['admin'] });
  return { token, apiKeyId: apiKey.id };
}

/** Any user creates an organization and becomes its owner; the row of it is in the new organization's audit log. */
export async function createOrganization(prisma: PrismaClient, actor: Actor, body: z.output<typeof CreateOrganizationBody>, origin: RequestOrigin | null) {
  requireSelfService(actor, 'admin', 'create an organization');
  const userId = actor.userId;
  const slug = body.slug ?? slugify(body.name, 'organization');
  return conflictAs(`an organization with slug "${slug}" already exists: choose another slug`, () =>
    prisma.$transaction(async (tx) => {
      const organization = await tx.organization.create({ data: { slug, name: body.name } });
      await tx.orgMembership.create({ data: { organizationId: organization.id, userId, role: 'owner' } });
      const { token, apiKeyId } = await issueMembershipToken(tx, userId, organization.id, 'owner');
      await recordAudit(tx, actor, {
        action: 'org.create',
        organizationId: organization.id,
        targetType: 'organization',
        targetId: organization.id,
        details: { slug, name: body.name, apiKeyId },
        origin,
      });
      return { organization: organizationDto(organization), token };
    }),
  );
}

export async function getOrganization(prisma: PrismaClient, actor: Actor, organizationId: string) {
  requireOrganizationAction(actor, 'org.read', organizationId);
  return organizationDto(await prisma.organization.findUniqueOrThrow({ where: { id: organizationId } }));
}

export async function updateOrganization(
  prisma: PrismaClient,
  actor: Actor,
  organizationId: string,
  body: z.output<typeof UpdateOrganizationBody>,
  origin: RequestOrigin | null,
) {
  requireOrganizationAction(actor, 'org.update', organizationId);
  const data = body.allowedEmailDomains ? { ...body, allowedEmailDomains: [...new Set(body.allowedEmailDomains)].sort() } : body;
  const updated = await conflictAs(`an organization with slug "${body.slug}" already exists: choose another slug`, () =>
    prisma.$transaction(async (tx) => {
      const row = await tx.organization.update({ where: { id: organizationId }, data });
      await recordAudit(tx, actor, {
        action: 'org.update',
        targetType: 'organization',
        targetId: organizationId,
        details: { fields: Object.keys(body).sort(), ...data },
        origin,
      });
      return row;
    }),
  );
  return organizationDto(updated);
}
