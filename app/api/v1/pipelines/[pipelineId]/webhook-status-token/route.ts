import { setWebhookStatusToken } from '../../../../../../lib/api/schemas/webhooks';
import * as webhooks from '../../../../../../lib/api/services/webhooks';
import { json, withApi } from '../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const PUT = withApi(setWebhookStatusToken, async ({ prisma, actor, params, body, origin }) =>
  json(await webhooks.setWebhookStatusToken(prisma, actor, params.pipelineId, body, origin)),
);
