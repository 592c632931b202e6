import { getRun } from '../../../../../lib/api/schemas/runs';
import * as runs from '../../../../../lib/api/services/runs';
import { json, withApi } from '../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(getRun, async ({ prisma, actor, params }) => json(await runs.getRun(prisma, actor, params.runId)));
