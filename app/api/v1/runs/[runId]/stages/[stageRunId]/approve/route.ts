import { approveStage } from '../../../../../../../../lib/api/schemas/stages';
import * as stages from '../../../../../../../../lib/api/services/stages';
import { json, withApi } from '../../../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const POST = withApi(approveStage, async ({ prisma, actor, params, origin }) =>
  json(await stages.decideStage(prisma, actor, params.runId, params.stageRunId, true, origin)),
);
