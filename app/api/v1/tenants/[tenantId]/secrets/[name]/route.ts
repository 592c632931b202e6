import { deleteSecret, setSecret } from '../../../../../../../lib/api/schemas/secrets';
import * as secrets from '../../../../../../../lib/api/services/secrets';
import { json, noContent, withApi } from '../../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const PUT = withApi(setSecret, async ({ prisma, actor, params, body, origin }) => {
  const { secret, created } = await secrets.setSecret(prisma, actor, params.tenantId, params.name, body, origin);
  return json(secret, created ? 201 : 200);
});

export const DELETE = withApi(deleteSecret, async ({ prisma, actor, params, origin }) => {
  await secrets.deleteSecret(prisma, actor, params.tenantId, params.name, origin);
  return noContent();
});
