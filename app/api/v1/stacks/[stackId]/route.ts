import { deleteStack, getStack, updateStack } from '../../../../../lib/api/schemas/stacks';
import * as stacks from '../../../../../lib/api/services/stacks';
import { json, noContent, withApi } from '../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(getStack, async ({ prisma, actor, params }) => json(await stacks.getStack(prisma, actor, params.stackId)));

export const PATCH = withApi(updateStack, async ({ prisma, actor, params, body, origin }) =>
  json(await stacks.updateStack(prisma, actor, params.stackId, body, origin)),
);

export const DELETE = withApi(deleteStack, async ({ prisma, actor, params, origin }) => {
  await stacks.deleteStack(prisma, actor, params.stackId, origin);
  return noContent();
});
