import { listStateVersions } from '../../../../../../lib/api/schemas/stack-runs';
import * as versions from '../../../../../../lib/api/services/state-versions';
import { json, withApi } from '../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(listStateVersions, async ({ prisma, actor, params, query }) =>
  json(await versions.listStateVersions(prisma, actor, params.stackId, query)),
);
