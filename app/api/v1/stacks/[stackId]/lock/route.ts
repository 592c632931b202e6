import { forceUnlockStack } from '../../../../../../lib/api/schemas/stack-runs';
import * as versions from '../../../../../../lib/api/services/state-versions';
import { json, withApi } from '../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const DELETE = withApi(forceUnlockStack, async ({ prisma, actor, params, origin }) =>
  json(await versions.forceUnlockStack(prisma, actor, params.stackId, origin)),
);
