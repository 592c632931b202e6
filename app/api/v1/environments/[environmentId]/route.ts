import { getEnvironment } from '../../../../../lib/api/schemas/stacks';
import * as stacks from '../../../../../lib/api/services/stacks';
import { json, withApi } from '../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(getEnvironment, async ({ prisma, actor, params }) => json(await stacks.getEnvironment(prisma, actor, params.environmentId)));
