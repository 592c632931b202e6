import { revokeInvitation } from '../../../../../../../lib/api/schemas/invitations';
import * as invitations from '../../../../../../../lib/api/services/invitations';
import { noContent, withApi } from '../../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const DELETE = withApi(revokeInvitation, async ({ prisma, actor, params, origin }) => {
  await invitations.revokeInvitation(prisma, actor, params.organizationId, params.invitationId, origin);
  return noContent();
});
