import { createStack, listStacks } from '../../../../../../lib/api/schemas/stacks';
import * as stacks from '../../../../../../lib/api/services/stacks';
import { json, withApi } from '../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(listStacks, async ({ prisma, actor, params, query }) => json(await stacks.listStacks(prisma, actor, params.tenantId, query)));

export const POST = withApi(createStack, async ({ prisma, actor, params, body, origin }) =>
  json(await stacks.createStack(prisma, actor, params.tenantId, body, origin), 201),
);
