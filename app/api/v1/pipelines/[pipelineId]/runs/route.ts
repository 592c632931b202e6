import { listRuns, triggerRun } from '../../../../../../lib/api/schemas/runs';
import * as runs from '../../../../../../lib/api/services/runs';
import { json, withApi } from '../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(listRuns, async ({ prisma, actor, params, query }) => json(await runs.listRuns(prisma, actor, params.pipelineId, query)));

export const POST = withApi(triggerRun, async ({ prisma, actor, params, body, origin }) =>
  json(await runs.triggerRun(prisma, actor, params.pipelineId, body, origin), 201),
);
