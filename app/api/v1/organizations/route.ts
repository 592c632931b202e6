import { createOrganization, listOrganizations } from '../../../../lib/api/schemas/organizations';
import * as organizations from '../../../../lib/api/services/organizations';
import { json, withApi } from '../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(listOrganizations, async ({ prisma, actor, query }) => json(await organizations.listOrganizations(prisma, actor, query)));

export const POST = withApi(createOrganization, async ({ prisma, actor, body, origin }) =>
  json(await organizations.createOrganization(prisma, actor, body, origin), 201),
);
