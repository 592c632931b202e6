import { createTenant, listTenants } from '../../../../lib/api/schemas/tenants';
import * as tenants from '../../../../lib/api/services/tenants';
import { json, withApi } from '../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(listTenants, async ({ prisma, actor, query }) => json(await tenants.listTenants(prisma, actor, query)));

export const POST = withApi(createTenant, async ({ prisma, actor, body, origin }) => json(await tenants.createTenant(prisma, actor, body, origin), 201));
