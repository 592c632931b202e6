import { receiveWebhook } from '../../../../../../lib/api/schemas/webhooks';
import * as webhooks from '../../../../../../lib/api/services/webhooks';
import { json, withApi } from '../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

/** No token: the forge signs the delivery with the pipeline's webhook secret (docs/webhooks.md). */
export const POST = withApi(receiveWebhook, async ({ prisma, params, request, origin }) => {
  const answer = await webhooks.receiveWebhook(prisma, params.forge, params.pipelineId, request, origin);
  return json(answer.body, answer.status);
});
