import { getTenantSummary } from '../../../../../../lib/api/schemas/summary';
import * as summary from '../../../../../../lib/api/services/summary';
import { json, withApi } from '../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(getTenantSummary, async ({ prisma, actor, params, query }) =>
  json(await summary.getTenantSummary(prisma, actor, params.tenantId, query)),
);
