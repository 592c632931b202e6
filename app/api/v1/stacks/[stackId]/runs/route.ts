import { createStackRun, listStackRuns } from '../../../../../../lib/api/schemas/stack-runs';
import * as runs from '../../../../../../lib/api/services/stack-runs';
import { json, withApi } from '../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(listStackRuns, async ({ prisma, actor, params, query }) => json(await runs.listStackRuns(prisma, actor, params.stackId, query)));

export const POST = withApi(createStackRun, async ({ prisma, actor, params, body, origin }) =>
  json(await runs.createStackRun(prisma, actor, params.stackId, body, body.configuration === undefined ? 'api' : 'cli', origin), 201),
);
