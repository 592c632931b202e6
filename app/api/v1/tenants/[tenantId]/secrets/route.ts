import { listSecrets } from '../../../../../../lib/api/schemas/secrets';
import * as secrets from '../../../../../../lib/api/services/secrets';
import { json, withApi } from '../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(listSecrets, async ({ prisma, actor, params, query }) => json(await secrets.listSecrets(prisma, actor, params.tenantId, query)));
