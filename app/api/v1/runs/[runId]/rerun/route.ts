import { rerunRun } from '../../../../../../lib/api/schemas/runs';
import * as runs from '../../../../../../lib/api/services/runs';
import { json, withApi } from '../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const POST = withApi(rerunRun, async ({ prisma, actor, params, body, origin }) =>
  json(await runs.rerunRun(prisma, actor, params.runId, body, origin), 201),
);
