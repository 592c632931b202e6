import { getTenant } from '../../../../../lib/api/schemas/tenants';
import * as tenants from '../../../../../lib/api/services/tenants';
import { json, withApi } from '../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(getTenant, async ({ prisma, actor, params }) => json(await tenants.getTenant(prisma, actor, params.tenantId)));
