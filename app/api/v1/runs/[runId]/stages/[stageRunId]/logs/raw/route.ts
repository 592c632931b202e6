import { downloadStageLog } from '../../../../../../../../../lib/api/schemas/stages';
import * as stages from '../../../../../../../../../lib/api/services/stages';
import { withApi } from '../../../../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(downloadStageLog, async ({ prisma, actor, params }) => {
  const log = await stages.streamStageLog(prisma, actor, params.runId, params.stageRunId);
  return new Response(log.body, {
    headers: { 'content-type': 'text/plain; charset=utf-8', 'content-disposition': `attachment; filename="${log.fileName}"` },
  });
});
