import { getStateVersion } from '../../../../../lib/api/schemas/stack-runs';
import * as versions from '../../../../../lib/api/services/state-versions';
import { json, withApi } from '../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(getStateVersion, async ({ prisma, actor, params }) => json(await versions.getStateVersion(prisma, actor, params.stateVersionId)));
