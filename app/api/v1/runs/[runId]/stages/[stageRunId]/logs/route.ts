import { getStageLogs } from '../../../../../../../../lib/api/schemas/runs';
import * as runs from '../../../../../../../../lib/api/services/runs';
import { json, withApi } from '../../../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(getStageLogs, async ({ prisma, actor, params, query }) => {
  const page = await runs.readStageLogs(prisma, actor, params.runId, params.stageRunId, query);
  if (query.format === 'json') return json(page);
  return new Response(page.chunks.map((chunk) => chunk.text).join(''), {
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'buildit-log-next': page.next === null ? '' : String(page.next),
      'buildit-log-complete': String(page.complete),
    },
  });
});
