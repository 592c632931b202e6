import { rollbackStateVersion } from '../../../../../../lib/api/schemas/stack-runs';
import * as versions from '../../../../../../lib/api/services/state-versions';
import { json, withApi } from '../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const POST = withApi(rollbackStateVersion, async ({ prisma, actor, params, origin }) =>
  json(await versions.rollbackStateVersion(prisma, actor, params.stateVersionId, origin), 201),
);
