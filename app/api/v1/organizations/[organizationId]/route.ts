import { getOrganization, updateOrganization } from '../../../../../lib/api/schemas/organizations';
import * as organizations from '../../../../../lib/api/services/organizations';
import { json, withApi } from '../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(getOrganization, async ({ prisma, actor, params }) =>
  json(await organizations.getOrganization(prisma, actor, params.organizationId)),
);

export const PATCH = withApi(updateOrganization, async ({ prisma, actor, params, body, origin }) =>
  json(await organizations.updateOrganization(prisma, actor, params.organizationId, body, origin)),
);
