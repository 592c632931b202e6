import { acceptInvitation } from '../../../../../../lib/api/schemas/invitations';
import * as invitations from '../../../../../../lib/api/services/invitations';
import { json, withApi } from '../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const POST = withApi(acceptInvitation, async ({ prisma, actor, params, origin }) =>
  json(await invitations.acceptInvitation(prisma, actor, params.token, origin)),
);
