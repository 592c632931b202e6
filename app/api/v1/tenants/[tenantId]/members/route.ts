import { listTenantMembers } from '../../../../../../lib/api/schemas/tenant-members';
import * as tenantMembers from '../../../../../../lib/api/services/tenant-members';
import { json, withApi } from '../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(listTenantMembers, async ({ prisma, actor, params, query }) =>
  json(await tenantMembers.listTenantMembers(prisma, actor, params.tenantId, query)),
);
