/** Webhooks of the forges (docs/webhooks.md): the per-pipeline secret, and the endpoint the forges call. */
import { z } from 'zod';
import { FORGES } from '../../forges/types';
import { defineOperation } from '../operation';
import { ErrorBody, Id } from './common';
import { PipelineParams } from './pipelines';
import { SecretName } from './secrets';
import { RunSummary } from './runs';

export const WebhookParams = z.object({
  forge: z.enum(FORGES).meta({ description: '`github`, `gitlab` or `gitea` (Forgejo: `gitea`)' }),
  pipelineId: Id,
});

export const WebhookSecret = z.object({
  secret: z.string().meta({ description: 'the new secret: shown in this response only; enter it in the forge' }),
  urls: z
    .object({ github: z.string(), gitlab: z.string(), gitea: z.string() })
    .meta({ description: "the pipeline's webhook URL for each forge (Forgejo: gitea), built on BUILDIT_PUBLIC_URL" }),
  replaced: z.boolean().meta({ description: 'true when it replaced an earlier secret, which no longer verifies anything' }),
});
export type WebhookSecret = z.output<typeof WebhookSecret>;

export const WebhookDelivery = z.object({
  outcome: z.enum(['triggered', 'duplicate', 'ignored']),
  reason: z.string().nullable().meta({ description: 'why nothing was started (outcome `ignored`)' }),
  run: RunSummary.nullable().meta({ description: 'the run this delivery started (now or, for a duplicate, the first time)' }),
});
export type WebhookDelivery = z.output<typeof WebhookDelivery>;

export const createWebhookSecret = defineOperation({
  operationId: 'createWebhookSecret',
  method: 'POST',
  path: '/api/v1/pipelines/{pipelineId}/webhook-secret',
  tag: 'pipelines',
  summary: "Create or rotate the pipeline's webhook secret",
  description:
    'Generates a new secret that forges sign their webhook deliveries with (stored encrypted; any earlier secret stops working at once) and answers it with the webhook URLs. The secret is in this response only.',
  auth: 'token',
  params: PipelineParams,
  responses: { 201: { description: 'the new secret and the webhook URLs', schema: WebhookSecret } },
});

export const receiveWebhook = defineOperation({
  operationId: 'receiveWebhook',
  method: 'POST',
  path: '/api/v1/webhooks/{forge}/{pipelineId}',
  tag: 'webhooks',
  summary: 'A delivery of a forge webhook (push, tag push, pull/merge request)',
  description:
    "Called by the forge, not with a token: the delivery is verified with the pipeline's webhook secret (GitHub `X-Hub-Signature-256`, GitLab `X-Gitlab-Token`, Gitea/Forgejo `X-Gitea-Signature`). " +
    "The body is the forge's JSON payload (at most 1 MiB). 201 `triggered` with the new run; 200 `duplicate` with the run an earlier delivery of the same id started; " +
    '202 `ignored` with the reason when nothing runs (a deletion, an event or action that starts no run, a pipeline whose triggers do not match). ' +
    '401 `invalid_signature` when the signature or token is missing or wrong; 404 for an unknown pipeline and for a pipeline without a webhook secret alike.',
  auth: 'none',
  params: WebhookParams,
  responses: {
    200: { description: 'a delivery seen before: the run it started', schema: WebhookDelivery },
    201: { description: 'the run this delivery started', schema: WebhookDelivery },
    202: { description: 'nothing to run, and why', schema: WebhookDelivery },
    400: { description: 'the payload is not the JSON the forge documents', schema: ErrorBody },
    401: { description: 'missing or invalid signature (or GitLab token)', schema: ErrorBody },
    413: { description: 'request body larger than 1 MiB', schema: ErrorBody },
  },
});

export const WebhookStatusToken = z.object({
  statusTokenSecret: SecretName.nullable().meta({
    description:
      'the name of the tenant secret holding the forge token BuildIt reports commit statuses with (GitHub: a token with `repo:status`/Commit statuses write; GitLab: `api` scope; Gitea: write on the repository); null: report none',
    example: 'FORGE_STATUS_TOKEN',
  }),
});
export type WebhookStatusToken = z.output<typeof WebhookStatusToken>;

export const setWebhookStatusToken = defineOperation({
  operationId: 'setWebhookStatusToken',
  method: 'PUT',
  path: '/api/v1/pipelines/{pipelineId}/webhook-status-token',
  tag: 'pipelines',
  summary: 'Name the tenant secret commit statuses are reported with',
  description:
    "Runs started by this pipeline's webhook report their status (pending, then success, failure or error) to the forge's commit status API with the token in this tenant secret (read when sending; the secret need not exist yet). " +
    'The pipeline must have a webhook secret (409 `webhook_not_configured` otherwise); rotating that secret keeps this setting.',
  auth: 'token',
  params: PipelineParams,
  body: WebhookStatusToken,
  responses: {
    200: { description: 'the setting now', schema: WebhookStatusToken },
    409: { description: 'the pipeline has no webhook secret yet', schema: ErrorBody },
  },
});

export const webhookOperations = [createWebhookSecret, setWebhookStatusToken, receiveWebhook];
