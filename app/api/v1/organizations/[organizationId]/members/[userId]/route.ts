import { removeMember, updateMember } from '../../../../../../../lib/api/schemas/members';
import * as members from '../../../../../../../lib/api/services/members';
import { json, noContent, withApi } from '../../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const PATCH = withApi(updateMember, async ({ prisma, actor, params, body, origin }) =>
  json(await members.updateMember(prisma, actor, params.organizationId, params.userId, body.role, origin)),
);

export const DELETE = withApi(removeMember, async ({ prisma, actor, params, origin }) => {
  await members.removeMember(prisma, actor, params.organizationId, params.userId, origin);
  return noContent();
});
