import { getStackRun } from '../../../../../lib/api/schemas/stack-runs';
import * as runs from '../../../../../lib/api/services/stack-runs';
import { json, withApi } from '../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(getStackRun, async ({ prisma, actor, params }) => json(await runs.getStackRun(prisma, actor, params.stackRunId)));
