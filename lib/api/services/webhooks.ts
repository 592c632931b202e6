/**
 * Webhooks (docs/webhooks.md): the per-pipeline secret (created or rotated by someone who may update the
 * pipeline, shown once), and deliveries from GitHub, GitLab and Gitea/Forgejo, verified with that secret
 * and turned into runs through triggerRun (./runs.ts), one run per delivery id.
 */
import type { Actor } from '../../auth/authorize';
import type { RequestOrigin } from '../../auth/request-origin';
import { attachStatusTarget } from '../../commit-status/queue';
import { publicUrlFromEnv } from '../../config/env';
import { FORGES, forges, PayloadError, type ForgeEvent, type ForgeName } from '../../forges';
import { Prisma } from '../../generated/prisma/client';
import { TRIGGER_EVENTS } from '../../pipeline/plan-types';
import { generateWebhookSecret, readWebhookSecret, writeWebhookSecret } from '../../secrets/webhook-secret';
import { recordAudit } from '../audit';
import type { PrismaClient } from '../db';
import { ApiError, notFound } from '../errors';
import type { WebhookSecret, WebhookStatusToken } from '../schemas/webhooks';
import { runSummaryDto } from '../serialize';
import { readRawBody } from '../with-api';
import { loadPipelineFor } from './pipelines';
import { triggerRun } from './runs';

/** Largest delivery read (GitHub caps payloads at 25 MB, but a push's payload is far below this). */
export const MAX_WEBHOOK_BYTES = 1024 * 1024;

/** The pipeline's webhook URL for each forge, on BUILDIT_PUBLIC_URL. */
export function webhookUrls(pipelineId: string): Record<ForgeName, string> {
  const base = publicUrlFromEnv().toString().replace(/\/+$/, '');
  return Object.fromEntries(FORGES.map((forge) => [forge, `${base}/api/v1/webhooks/${forge}/${pipelineId}`])) as Record<ForgeName, string>;
}

/** Creates or replaces the pipeline's webhook secret; the value is in this answer only (audited without it). */
export async function createWebhookSecret(prisma: PrismaClient, actor: Actor, pipelineId: string, origin: RequestOrigin | null): Promise<WebhookSecret> {
  const pipeline = await loadPipelineFor(prisma, actor, pipelineId, 'pipeline.update');
  const secret = generateWebhookSecret();
  const replaced = await writeWebhookSecret(prisma, pipeline, secret, async (tx, replaced) => {
    await recordAudit(tx, actor, {
      action: 'pipeline.webhook_secret',
      tenantId: pipeline.tenantId,
      targetType: 'pipeline',
      targetId: pipeline.id,
      details: { replaced },
      origin,
    });
    return replaced;
  });
  return { secret, urls: webhookUrls(pipeline.id), replaced };
}

/** Names (or, with null, clears) the tenant secret whose token commit statuses are sent with (docs/webhooks.md). */
export async function setWebhookStatusToken(
  prisma: PrismaClient,
  actor: Actor,
  pipelineId: string,
  body: WebhookStatusToken,
  origin: RequestOrigin | null,
): Promise<WebhookStatusToken> {
  const pipeline = await loadPipelineFor(prisma, actor, pipelineId, 'pipeline.update');
  return prisma.$transaction(async (tx) => {
    const updated = await tx.pipelineWebhook.updateMany({ where: { pipelineId: pipeline.id }, data: { statusTokenSecret: body.statusTokenSecret } });
    if (updated.count === 0) {
      throw new ApiError(
        'webhook_not_configured',
        409,
        'this pipeline has no webhook secret: create it first (POST /api/v1/pipelines/{pipelineId}/webhook-secret)',
      );
    }
    await recordAudit(tx, actor, {
      action: 'pipeline.webhook_status_token',
      tenantId: pipeline.tenantId,
      targetType: 'pipeline',
      targetId: pipeline.id,
      details: { statusTokenSecret: body.statusTokenSecret },
      origin,
    });
    return { statusTokenSecret: body.statusTokenSecret };
  });
}

/**
 * The actor of a verified delivery: no user and no token, allowed nothing but triggering runs in the
 * pipeline's tenant (its audit rows name the organization and the tenant, with no actor).
 */
function webhookActor(pipeline: { tenantId: string; tenant: { organizationId: string } }): Actor {
  return {
    kind: 'webhook',
    userId: null,
    apiKeyId: null,
    organizationId: pipeline.tenant.organizationId,
    orgRole: null,
    tenantRoles: { [pipeline.tenantId]: 'member' },
    tenantRestriction: pipeline.tenantId,
    scopes: ['runs:trigger'],
  };
}

export interface DeliveryAnswer {
  status: 200 | 201 | 202;
  /** The WebhookDelivery schema's shape (lib/api/schemas/webhooks.ts). */
  body: { outcome: 'triggered' | 'duplicate' | 'ignored'; reason: string | null; run: ReturnType<typeof runSummaryDto> | null };
}

const ignored = (reason: string): DeliveryAnswer => ({ status: 202, body: { outcome: 'ignored', reason, run: null } });

/** A delivery id as stored: trimmed, at most 200 characters; none (an old GitLab) means no idempotency. */
function deliveryIdOf(headers: Headers, header: string): string | null {
  const value = headers.get(header)?.trim();
  return value ? value.slice(0, 200) : null;
}

function parseJson(bytes: Uint8Array, contentType: string | null): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError('invalid_json', 400, 'the request body is not valid UTF-8');
  }
  // GitHub's "application/x-www-form-urlencoded" content type sends the JSON as the `payload` field.
  if (contentType !== null && /^application\/x-www-form-urlencoded/i.test(contentType.trim())) text = new URLSearchParams(text).get('payload') ?? '';
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ApiError('invalid_json', 400, `the request body is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * One delivery: the body read (413 past MAX_WEBHOOK_BYTES), the pipeline and its secret found (404 when
 * either is missing, the same answer), the signature checked (401), then the event parsed and a run
 * triggered, unless the delivery id already started one (200 with that run) or nothing is to run (202).
 */
export async function receiveWebhook(
  prisma: PrismaClient,
  forgeName: ForgeName,
  pipelineId: string,
  request: Request,
  origin: RequestOrigin,
): Promise<DeliveryAnswer> {
  const forge = forges[forgeName];
  const bytes = await readRawBody(request, MAX_WEBHOOK_BYTES);
  const found = await readWebhookSecret(prisma, pipelineId);
  if (found === null) throw notFound('pipeline');
  if (!forge.verify(request.headers, bytes, found.secret)) {
    throw new ApiError(
      'invalid_signature',
      401,
      forgeName === 'gitlab'
        ? 'the X-Gitlab-Token header is missing or is not the webhook secret of this pipeline'
        : `the ${forgeName === 'github' ? 'X-Hub-Signature-256' : 'X-Gitea-Signature'} header is missing or is not the HMAC-SHA256 of the body with the webhook secret of this pipeline`,
    );
  }
  const { pipeline } = found;
  const payload = parseJson(bytes, request.headers.get('content-type'));
  let parsed;
  try {
    parsed = forge.parse(request.headers, payload);
  } catch (error) {
    if (error instanceof PayloadError) throw new ApiError('invalid_payload', 400, `the ${forgeName} payload is not as documented: ${error.message}`);
    throw error;
  }
  if (parsed.kind === 'ignored') return ignored(parsed.reason);
  const { event } = parsed;
  if (!(TRIGGER_EVENTS as readonly string[]).includes(event.event)) {
    return ignored(`"${event.event}" events start no run: the pipeline language has no \`on "${event.event}"\` trigger yet`);
  }

  const deliveryId = deliveryIdOf(request.headers, forge.deliveryHeader);
  const earlier = async () => (deliveryId === null ? null : prisma.pipelineRun.findUnique({ where: { pipelineId_deliveryId: { pipelineId, deliveryId } } }));
  const seen = await earlier();
  if (seen) {
    // A redelivery after an answer that failed between the run and its status target: add it now.
    await reportStatusOf(prisma, pipeline, seen.id, event);
    return { status: 200, body: { outcome: 'duplicate', reason: null, run: runSummaryDto(seen) } };
  }

  try {
    const run = await triggerRun(prisma, webhookActor(pipeline), pipelineId, triggerBody(event, pipeline), origin, {
      triggeredBy: `webhook:${forgeName}`,
      deliveryId,
      pullRequest: event.event === 'pull_request' ? { number: event.number, sourceBranch: event.sourceBranch, targetBranch: event.targetBranch } : null,
    });
    await reportStatusOf(prisma, pipeline, run.id, event);
    const { stages: _stages, ...summary } = run;
    return { status: 201, body: { outcome: 'triggered', reason: null, run: summary } };
  } catch (error) {
    if (error instanceof ApiError && error.code === 'not_triggered') {
      const reason = (error.details as { reason?: unknown } | undefined)?.reason;
      return ignored(typeof reason === 'string' ? reason : error.message);
    }
    // The same delivery twice at once: the second waited for the first's run and found its delivery id taken.
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      const first = await earlier();
      if (first) return { status: 200, body: { outcome: 'duplicate', reason: null, run: runSummaryDto(first) } };
    }
    throw error;
  }
}

/**
 * Commit status (docs/webhooks.md): when the pipeline's webhook names a status token secret and the payload
 * says where the repository is, the run gets its status target and a first job (its status now, `pending`).
 * Done here, right after triggerRun committed the run, rather than inside the run's transaction (which
 * triggerRun and lib/runs/create-run.ts own): attachStatusTarget locks the run row, so a status change
 * made meanwhile is either seen by the first job or enqueues its own (lib/commit-status/queue.ts).
 */
async function reportStatusOf(prisma: PrismaClient, pipeline: { id: string; slug: string }, runId: string, event: ForgeEvent): Promise<void> {
  if (event.statusTarget === null) return;
  const webhook = await prisma.pipelineWebhook.findUnique({ where: { pipelineId: pipeline.id }, select: { statusTokenSecret: true } });
  if (!webhook?.statusTokenSecret) return;
  await attachStatusTarget(prisma, runId, { ...event.statusTarget, sha: event.sha, context: `buildit/${pipeline.slug}` });
}

/**
 * The trigger of triggerRun for an event: a pull request runs its head commit on its target branch.
 * Changed files (path filters) come from the repository: a push's own commits (from `before`), a new
 * branch's and a pull request's since they left the default or target branch.
 */
function triggerBody(event: ForgeEvent, pipeline: { repository: string | null; defaultBranch: string }) {
  const common = {
    sha: event.sha,
    ...(event.message !== null ? { message: event.message } : {}),
    ...(event.author !== null ? { author: event.author } : {}),
    variables: {},
  };
  switch (event.event) {
    case 'push':
      // The first push of the default branch has nothing to compare with: its changes stay unknown.
      return {
        event: 'push' as const,
        branch: event.branch,
        ...common,
        ...(event.before === null && event.branch === pipeline.defaultBranch ? {} : changedSince(pipeline, event.before ?? pipeline.defaultBranch)),
      };
    case 'tag':
      // `tag` is checked against TRIGGER_EVENTS by the caller.
      return { event: 'tag' as (typeof TRIGGER_EVENTS)[number], tag: event.tag, ...common };
    case 'pull_request':
      return { event: 'pull_request' as const, branch: event.targetBranch, ...common, ...changedSince(pipeline, event.targetBranch) };
  }
}

/** Without a repository there is nothing to compare: the changes stay unknown (path filters hold). */
function changedSince(pipeline: { repository: string | null }, since: string): { changedSince?: string } {
  return pipeline.repository === null ? {} : { changedSince: since };
}
