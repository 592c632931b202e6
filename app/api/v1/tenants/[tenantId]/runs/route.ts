import { listTenantRuns } from '../../../../../../lib/api/schemas/tenant-runs';
import * as tenantRuns from '../../../../../../lib/api/services/tenant-runs';
import { json, withApi } from '../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(listTenantRuns, async ({ prisma, actor, params, query }) =>
  json(await tenantRuns.listTenantRuns(prisma, actor, params.tenantId, query)),
);
