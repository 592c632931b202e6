import { deleteTenant, getTenant, updateTenant } from '../../../../../lib/api/schemas/tenants';
import * as tenants from '../../../../../lib/api/services/tenants';
import { json, noContent, withApi } from '../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(getTenant, async ({ prisma, actor, params }) => json(await tenants.getTenant(prisma, actor, params.tenantId)));

export const PATCH = withApi(updateTenant, async ({ prisma, actor, params, body, origin }) =>
  json(await tenants.updateTenant(prisma, actor, params.tenantId, body, origin)),
);

export const DELETE = withApi(deleteTenant, async ({ prisma, actor, params, origin }) => {
  await tenants.deleteTenant(prisma, actor, params.tenantId, origin);
  return noContent();
});
