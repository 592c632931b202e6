import { createInvitation, listInvitations } from '../../../../../../lib/api/schemas/invitations';
import * as invitations from '../../../../../../lib/api/services/invitations';
import { json, withApi } from '../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(listInvitations, async ({ prisma, actor, params, query }) =>
  json(await invitations.listInvitations(prisma, actor, params.organizationId, query)),
);

export const POST = withApi(createInvitation, async ({ prisma, actor, params, body, origin }) =>
  json(await invitations.createInvitation(prisma, actor, params.organizationId, body, origin), 201),
);
