import { cancelRun } from '../../../../../../lib/api/schemas/runs';
import * as runs from '../../../../../../lib/api/services/runs';
import { json, withApi } from '../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const POST = withApi(cancelRun, async ({ prisma, actor, params, origin }) => json(await runs.cancelRun(prisma, actor, params.runId, origin)));
