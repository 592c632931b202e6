import { deleteStackVariable, setStackVariable } from '../../../../../../../lib/api/schemas/stacks';
import * as stacks from '../../../../../../../lib/api/services/stacks';
import { json, noContent, withApi } from '../../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const PUT = withApi(setStackVariable, async ({ prisma, actor, params, body, origin }) => {
  const { variable, created } = await stacks.setStackVariable(prisma, actor, params.stackId, params.name, body, origin);
  return json(variable, created ? 201 : 200);
});

export const DELETE = withApi(deleteStackVariable, async ({ prisma, actor, params, origin }) => {
  await stacks.deleteStackVariable(prisma, actor, params.stackId, params.name, origin);
  return noContent();
});
