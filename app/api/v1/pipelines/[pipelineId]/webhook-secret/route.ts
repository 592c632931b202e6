import { createWebhookSecret } from '../../../../../../lib/api/schemas/webhooks';
import * as webhooks from '../../../../../../lib/api/services/webhooks';
import { json, withApi } from '../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const POST = withApi(createWebhookSecret, async ({ prisma, actor, params, origin }) =>
  json(await webhooks.createWebhookSecret(prisma, actor, params.pipelineId, origin), 201),
);
