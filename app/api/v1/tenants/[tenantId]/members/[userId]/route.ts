import { removeTenantMember, setTenantMember } from '../../../../../../../lib/api/schemas/tenant-members';
import * as tenantMembers from '../../../../../../../lib/api/services/tenant-members';
import { json, noContent, withApi } from '../../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const PUT = withApi(setTenantMember, async ({ prisma, actor, params, body, origin }) =>
  json(await tenantMembers.setTenantMember(prisma, actor, params.tenantId, params.userId, body.role, origin)),
);

export const DELETE = withApi(removeTenantMember, async ({ prisma, actor, params, origin }) => {
  await tenantMembers.removeTenantMember(prisma, actor, params.tenantId, params.userId, origin);
  return noContent();
});
