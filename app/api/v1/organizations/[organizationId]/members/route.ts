import { listMembers } from '../../../../../../lib/api/schemas/members';
import * as members from '../../../../../../lib/api/services/members';
import { json, withApi } from '../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(listMembers, async ({ prisma, actor, params, query }) =>
  json(await members.listMembers(prisma, actor, params.organizationId, query)),
);
