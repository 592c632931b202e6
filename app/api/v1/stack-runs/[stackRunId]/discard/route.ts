import { discardStackRun } from '../../../../../../lib/api/schemas/stack-runs';
import * as runs from '../../../../../../lib/api/services/stack-runs';
import { json, withApi } from '../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const POST = withApi(discardStackRun, async ({ prisma, actor, params, origin }) =>
  json(await runs.discardStackRun(prisma, actor, params.stackRunId, origin)),
);
