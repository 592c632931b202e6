import { getStackRunLogs } from '../../../../../../lib/api/schemas/stack-runs';
import * as runs from '../../../../../../lib/api/services/stack-runs';
import { json, withApi } from '../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(getStackRunLogs, async ({ prisma, actor, params, query }) =>
  json(await runs.getStackRunLogs(prisma, actor, params.stackRunId, query.after, query.limit)),
);
