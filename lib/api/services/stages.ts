/** A stage run of a run: approve or deny it while it waits (lib/runs/approvals.ts), download its whole log. */
import type { Actor } from '../../auth/authorize';
import type { RequestOrigin } from '../../auth/request-origin';
import { decideApproval } from '../../runs/approvals';
import { readChunkPage } from '../../runs/log-chunks';
import type { PrismaClient } from '../db';
import { requireTenantAction } from '../access';
import { recordAudit } from '../audit';
import { ApiError, notFound } from '../errors';
import { stageRunDto } from '../serialize';

/** Chunks read per query while streaming a log (64 KiB each at most). */
const DOWNLOAD_PAGE_CHUNKS = 64;

/** The stage run of the run, after checking the actor may do `action` on the run (404 when it may not see it). */
async function loadStageFor(prisma: PrismaClient, actor: Actor, runId: string, stageRunId: string, action: 'run.read' | 'run.approve') {
  const stage = await prisma.stageRun.findFirst({
    where: { id: stageRunId, runId },
    include: { run: { select: { number: true, pipelineId: true, pipeline: { select: { tenantId: true, tenant: { select: { organizationId: true } } } } } } },
  });
  if (!stage) throw notFound('stage run');
  const { tenantId, tenant } = stage.run.pipeline;
  requireTenantAction(actor, action, { id: tenantId, organizationId: tenant.organizationId }, 'stage run');
  return stage;
}

/** Approves (or denies) a waiting stage: the decision and its audit row in one transaction. */
export async function decideStage(prisma: PrismaClient, actor: Actor, runId: string, stageRunId: string, approved: boolean, origin: RequestOrigin | null) {
  const stage = await loadStageFor(prisma, actor, runId, stageRunId, 'run.approve');
  const updated = await prisma.$transaction(async (tx) => {
    const outcome = await decideApproval(tx, stageRunId, approved, actor.userId);
    if (outcome.kind === 'gone') throw notFound('stage run');
    if (outcome.kind === 'not_waiting') {
      throw new ApiError('stage_not_waiting', 409, `stage "${stage.stageId}" of run #${stage.run.number} is ${outcome.status}, not waiting for approval`, {
        status: outcome.status,
      });
    }
    if (outcome.kind === 'already_decided') {
      const verb = outcome.decision.approved ? 'approved' : 'denied';
      throw new ApiError('already_decided', 409, `stage "${stage.stageId}" of run #${stage.run.number} was already ${verb}`, {
        approved: outcome.decision.approved,
      });
    }
    await recordAudit(tx, actor, {
      action: approved ? 'run.approve' : 'run.deny',
      tenantId: stage.run.pipeline.tenantId,
      targetType: 'stage_run',
      targetId: stageRunId,
      details: { runId, pipelineId: stage.run.pipelineId, number: stage.run.number, stage: stage.stageId },
      origin,
    });
    return tx.stageRun.findUniqueOrThrow({ where: { id: stageRunId } });
  });
  return stageRunDto(updated);
}

/**
 * The stage's stored log as one text stream, read page by page while the client downloads it, so a log of
 * any size costs the server one page of memory.
 */
export async function streamStageLog(
  prisma: PrismaClient,
  actor: Actor,
  runId: string,
  stageRunId: string,
): Promise<{ fileName: string; body: ReadableStream<Uint8Array> }> {
  const stage = await loadStageFor(prisma, actor, runId, stageRunId, 'run.read');
  const encoder = new TextEncoder();
  let after = -1;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunks = await readChunkPage(prisma, stageRunId, after, DOWNLOAD_PAGE_CHUNKS);
      if (chunks.length === 0) {
        controller.close();
        return;
      }
      after = chunks.at(-1)!.seq;
      controller.enqueue(encoder.encode(chunks.map((chunk) => chunk.text).join('')));
    },
  });
  const safeStage = stage.stageId.replace(/[^\w.-]+/g, '_');
  return { fileName: `run-${stage.run.number}-${safeStage}.log`, body };
}
