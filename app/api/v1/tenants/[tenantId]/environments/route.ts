import { listEnvironments } from '../../../../../../lib/api/schemas/stacks';
import * as stacks from '../../../../../../lib/api/services/stacks';
import { json, withApi } from '../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(listEnvironments, async ({ prisma, actor, params, query }) =>
  json(await stacks.listEnvironments(prisma, actor, params.tenantId, query)),
);
