/**
 * Runs: trigger (authorize, then lib/runs/create-run in one transaction with the audit row), re-run,
 * list, get, cancel, and stage logs.
 */
import type { z } from 'zod';
import type { Actor } from '../../auth/authorize';
import type { RequestOrigin } from '../../auth/request-origin';
import { loadPipeline, PlanError } from '../../pipeline';
import { attachStatusTarget } from '../../commit-status/queue';
import { dataDirFromEnv } from '../../config/env';
import type { ForgeName } from '../../forges/types';
import { resolveTriggerSource, SourceError } from '../../source/trigger';
import { createFailedRun, createRun, NotTriggeredError, type PullRequestInfo, type ReusedStage, type Tx } from '../../runs/create-run';
import { readChunkPage } from '../../runs/log-chunks';
import { isFinishedRunStatus, isFinishedStageStatus } from '../../runs/statuses';
import { requestRunCancel } from '../../runs/transitions';
import type { PipelineRun, StageRun } from '../../generated/prisma/client';
import type { PrismaClient } from '../db';
import { requireTenantAction } from '../access';
import { recordAudit } from '../audit';
import { ApiError, notFound } from '../errors';
import { keysetArgs, toPage } from '../pagination';
import type { ListRunsQuery, LogsQuery, RerunRunBody, TriggerRunBody } from '../schemas/runs';
import { TRIGGER_EVENTS } from '../../pipeline/plan-types';
import { logChunkDto, runDto, runSummaryDto } from '../serialize';
import { checkConfig, includeOptions, loadPipelineFor, tenantStacks } from './pipelines';

/** Interactive transactions of a trigger wait for the pipeline row lock; give them room under bursts. */
const TRIGGER_TX = { maxWait: 15_000, timeout: 20_000 };

/**
 * What a run started by something else than its caller's own request carries: a forge's webhook delivery
 * (lib/api/services/webhooks.ts, docs/webhooks.md), whose actor is the delivery's (webhookActor).
 */
export interface RunVia {
  /** PipelineRun.triggeredBy: `webhook:github`, ... */
  triggeredBy?: string;
  /** The delivery's id: one run per delivery (unique per pipeline). */
  deliveryId?: string | null;
  /** The pull request of a `pull_request` run. */
  pullRequest?: PullRequestInfo | null;
}

/** The audit details of a run started via a webhook. */
function viaDetails(via: RunVia) {
  return via.triggeredBy === undefined ? {} : { via: via.triggeredBy, deliveryId: via.deliveryId ?? null, pullRequest: via.pullRequest?.number ?? null };
}

export async function triggerRun(
  prisma: PrismaClient,
  actor: Actor,
  pipelineId: string,
  body: z.output<typeof TriggerRunBody>,
  origin: RequestOrigin | null,
  via: RunVia = {},
) {
  const pipeline = await loadPipelineFor(prisma, actor, pipelineId, 'run.trigger');
  if (pipeline.config === null && pipeline.repository === null) {
    throw new ApiError('config_unavailable', 422, 'this pipeline has neither a stored config nor a repository to read it from');
  }
  const branch = body.branch ?? (body.tag ? undefined : pipeline.defaultBranch);
  // A pipeline with a repository runs one exact commit: the branch head is resolved here, once, and the
  // config (when not stored) is read at that commit (lib/source/trigger.ts; docs/source.md).
  let sha = body.sha;
  let config = pipeline.config;
  let includes: Record<string, string> | undefined;
  let changedFiles = body.changedFiles;
  let missingConfig = false;
  if (body.changedSince !== undefined && pipeline.repository === null) {
    throw new ApiError(
      'validation_failed',
      422,
      '`changedSince` needs a pipeline with a repository to compute the changed files from; give `changedFiles` instead',
    );
  }
  if (pipeline.repository !== null) {
    const source = await resolveTriggerSource(
      prisma,
      { ...pipeline, repository: pipeline.repository },
      {
        ...(branch !== undefined ? { branch } : {}),
        ...(body.tag !== undefined ? { tag: body.tag } : {}),
        ...(body.sha !== undefined ? { sha: body.sha } : {}),
        ...(body.changedSince !== undefined && body.changedFiles === undefined ? { changedSince: body.changedSince } : {}),
      },
      { dataDir: dataDirFromEnv() },
    ).catch((error: unknown) => {
      if (error instanceof SourceError) throw new ApiError(error.code, 422, error.message);
      throw error;
    });
    sha = source.sha;
    changedFiles ??= source.changedFiles;
    if (config === null) {
      missingConfig = source.config === null;
      config = source.config ?? '';
      includes = source.includes;
    }
  }
  const kdl = config ?? '';

  const trigger = {
    event: body.event,
    ...(branch !== undefined ? { branch } : {}),
    ...(body.tag !== undefined ? { tag: body.tag } : {}),
    ...(sha !== undefined ? { sha } : {}),
    ...(body.message !== undefined ? { message: body.message } : {}),
    ...(body.author !== undefined ? { author: body.author } : {}),
    variables: body.variables,
    ...(changedFiles !== undefined ? { changedFiles } : {}),
  };
  const audit = (tx: Tx, created: { run: { id: string }; number: number }, failed: boolean) =>
    recordAudit(tx, actor, {
      action: 'run.trigger',
      tenantId: pipeline.tenantId,
      targetType: 'run',
      targetId: created.run.id,
      details: {
        pipelineId,
        number: created.number,
        event: body.event,
        branch: branch ?? null,
        tag: body.tag ?? null,
        ...viaDetails(via),
        ...(failed ? { failed: true } : {}),
      },
      origin,
    });

  // A config read from the repository that is invalid at this commit: the run is created failed, with the
  // diagnostics as the log of its `config` entry (a stored config is checked on save and stays a 422 here).
  const configFromRepository = pipeline.config === null;
  const stacks = await tenantStacks(prisma, pipeline.tenantId);
  const loaded = configFromRepository ? loadPipeline(kdl, pipeline.configPath, { ...includeOptions(pipeline.configPath, includes ?? {}), stacks }) : null;
  if (loaded && loaded.spec === null) {
    const missing = missingConfig;
    const lines = missing
      ? [`${pipeline.configPath} does not exist at commit ${sha}: add it to the repository or store the config with the pipeline`]
      : loaded.diagnostics.map((d) => `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}${d.hint ? ` (${d.hint})` : ''}`);
    const errors = loaded.diagnostics.filter((d) => d.severity === 'error').length;
    const reason = missing
      ? `${pipeline.configPath} not found at ${sha}`
      : `${pipeline.configPath} at ${sha} is invalid: ${errors} error${errors === 1 ? '' : 's'}`;
    const { run, stages } = await prisma.$transaction(async (tx) => {
      const created = await createFailedRun(tx, {
        pipeline: { id: pipelineId, config: missing ? null : kdl },
        trigger,
        triggeredById: actor.userId,
        reason,
        lines,
        ...via,
      });
      await audit(tx, created, true);
      return created;
    }, TRIGGER_TX);
    return runView(prisma, run, stages);
  }
  const spec = loaded?.spec ?? checkConfig(kdl, pipeline.configPath, undefined, stacks);

  const { run, stages } = await prisma
    .$transaction(async (tx) => {
      const created = await createRun(tx, {
        pipeline: { id: pipelineId, config: kdl, ...(includes ? { includes } : {}) },
        spec,
        trigger,
        triggeredById: actor.userId,
        checkout: pipeline.repository !== null,
        ...via,
      });
      await audit(tx, created, false);
      return created;
    }, TRIGGER_TX)
    .catch(rethrowPlanningErrors);
  return runView(prisma, run, stages);
}

/**
 * Re-runs a finished run: a new run of the same pipeline planned from the run's stored config source and
 * with its trigger (event, branch, tag, commit, variables), so it reproduces the run even if the
 * pipeline's config changed since. With `failedOnly`, the stages that succeeded (and whose needs all
 * succeeded, transitively: createRun checks that against the new plan) are created `succeeded` with the
 * reason `reused from run #N`; the worker does not execute them and copies their artifacts from the old
 * run's artifact store (or, when those are gone, runs the stages again whose artifacts a running stage
 * needs: decided at claim time, see worker/jobs/run-pipeline.ts).
 */
export async function rerunRun(prisma: PrismaClient, actor: Actor, runId: string, body: z.output<typeof RerunRunBody>, origin: RequestOrigin | null) {
  const old = await loadRunFor(prisma, actor, runId, 'run.trigger');
  if (!isFinishedRunStatus(old.status)) {
    throw new ApiError('run_not_finished', 409, `run #${old.number} is ${old.status}; only a finished run can be re-run`, { status: old.status });
  }
  if (old.configSource === null) {
    throw new ApiError('config_unavailable', 422, `run #${old.number} has no stored config source to plan a re-run from`);
  }
  if (!(TRIGGER_EVENTS as readonly string[]).includes(old.event)) {
    throw new ApiError('not_rerunnable', 422, `run #${old.number} was started by a "${old.event}" event, which cannot be planned again`);
  }
  const oldStages = await prisma.stageRun.findMany({ where: { runId }, select: { stageId: true, status: true, exitCode: true, outputs: true } });
  let reuse: ReusedStage[] = [];
  if (body.failedOnly) {
    if (!oldStages.some((stage) => stage.status === 'failed' || stage.status === 'cancelled')) {
      throw new ApiError(
        'nothing_to_rerun',
        422,
        `no stage of run #${old.number} failed or was cancelled: there is nothing to re-run with failedOnly (re-run all instead)`,
      );
    }
    reuse = oldStages
      .filter((stage) => stage.status === 'succeeded')
      .map((stage) => ({
        stageId: stage.stageId,
        exitCode: stage.exitCode,
        reason: `reused from run #${old.number}`,
        outputs: stage.outputs as Record<string, string> | null,
      }));
  }
  const pipeline = await prisma.pipeline.findUniqueOrThrow({ where: { id: old.pipelineId }, select: { configPath: true, repository: true } });
  const config = old.configSource;
  const includes = (old.configIncludes ?? undefined) as Record<string, string> | undefined;
  const spec = checkConfig(config, pipeline.configPath, includes);
  const trigger = {
    event: old.event as (typeof TRIGGER_EVENTS)[number],
    ...(old.branch !== null ? { branch: old.branch } : {}),
    ...(old.tag !== null ? { tag: old.tag } : {}),
    ...(old.commitSha !== null ? { sha: old.commitSha } : {}),
    ...(old.commitMessage !== null ? { message: old.commitMessage } : {}),
    ...(old.commitAuthor !== null ? { author: old.commitAuthor } : {}),
    variables: (old.variables ?? {}) as Record<string, string>,
    ...(old.changedFiles !== null ? { changedFiles: old.changedFiles as string[] } : {}),
  };
  const pullRequest =
    old.pullRequest !== null ? { number: old.pullRequest, sourceBranch: old.sourceBranch ?? '', targetBranch: old.targetBranch ?? old.branch ?? '' } : null;

  const { run, stages } = await prisma
    .$transaction(async (tx) => {
      const created = await createRun(tx, {
        pipeline: { id: old.pipelineId, config, ...(includes ? { includes } : {}) },
        spec,
        trigger,
        triggeredById: actor.userId,
        rerunOfId: old.id,
        reuse,
        pullRequest,
        checkout: pipeline.repository !== null && old.commitSha !== null,
      });
      await recordAudit(tx, actor, {
        action: 'run.rerun',
        tenantId: old.pipeline.tenantId,
        targetType: 'run',
        targetId: created.run.id,
        details: {
          pipelineId: old.pipelineId,
          number: created.number,
          rerunOfId: old.id,
          rerunOfNumber: old.number,
          failedOnly: body.failedOnly,
          reused: created.reused,
        },
        origin,
      });
      return created;
    }, TRIGGER_TX)
    .catch(rethrowPlanningErrors);
  // A re-run of a forge's run reports to the same commit status (its context shows the newest result).
  const target = await prisma.runStatusTarget.findUnique({ where: { runId: old.id } });
  if (target)
    await attachStatusTarget(prisma, run.id, {
      forge: target.forge as ForgeName,
      apiUrl: target.apiUrl,
      repository: target.repository,
      sha: target.sha,
      context: target.context,
    });
  return runView(prisma, run, stages);
}

/** The run as the API shows it, with the person who started it. */
async function runView(prisma: PrismaClient, run: PipelineRun, stages: StageRun[]) {
  const actor = run.triggeredById ? await prisma.user.findUnique({ where: { id: run.triggeredById }, select: { name: true, email: true } }) : null;
  return runDto(run, stages, actor);
}

/** A run that cannot be planned is the caller's input problem: 422 with the planner's words. */
function rethrowPlanningErrors(error: unknown): never {
  if (error instanceof PlanError) throw new ApiError('plan_failed', 422, error.message);
  if (error instanceof NotTriggeredError) throw new ApiError('not_triggered', 422, error.message, { reason: error.reason });
  throw error;
}

export async function listRuns(prisma: PrismaClient, actor: Actor, pipelineId: string, query: z.output<typeof ListRunsQuery>) {
  await loadPipelineFor(prisma, actor, pipelineId, 'run.read');
  const keyset = keysetArgs(query);
  const rows = await prisma.pipelineRun.findMany({
    where: { AND: [{ pipelineId }, query.status ? { status: query.status } : {}, query.branch ? { branch: query.branch } : {}, keyset.where] },
    orderBy: keyset.orderBy,
    take: keyset.take,
  });
  return toPage(rows, query, runSummaryDto);
}

/** The run, after checking the actor may do `action` on it (404 when it may not see it). */
async function loadRunFor(prisma: PrismaClient, actor: Actor, runId: string, action: 'run.read' | 'run.cancel' | 'run.trigger') {
  const run = await prisma.pipelineRun.findUnique({
    where: { id: runId },
    include: { pipeline: { select: { tenantId: true, tenant: { select: { organizationId: true } } } } },
  });
  if (!run) throw notFound('run');
  requireTenantAction(actor, action, { id: run.pipeline.tenantId, organizationId: run.pipeline.tenant.organizationId }, 'run');
  return run;
}

export async function getRun(prisma: PrismaClient, actor: Actor, runId: string) {
  const run = await loadRunFor(prisma, actor, runId, 'run.read');
  const stages = await prisma.stageRun.findMany({ where: { runId } });
  return runView(prisma, run, stages);
}

/** Cancels a run (see requestRunCancel), audited in the same transaction; a finished run is a 409. */
export async function cancelRun(prisma: PrismaClient, actor: Actor, runId: string, origin: RequestOrigin | null) {
  const loaded = await loadRunFor(prisma, actor, runId, 'run.cancel');
  const now = new Date();
  const result = await prisma.$transaction(async (tx) => {
    const outcome = await requestRunCancel(tx, runId, now);
    if (outcome.kind === 'gone') throw notFound('run');
    if (outcome.kind === 'finished') {
      throw new ApiError('run_finished', 409, `run #${loaded.number} has already finished (${outcome.status}); there is nothing to cancel`, {
        status: outcome.status,
      });
    }
    await recordAudit(tx, actor, {
      action: 'run.cancel',
      tenantId: loaded.pipeline.tenantId,
      targetType: 'run',
      targetId: runId,
      details: { pipelineId: loaded.pipelineId, number: loaded.number, statusBefore: loaded.status },
      origin,
    });
    const run = await tx.pipelineRun.findUniqueOrThrow({ where: { id: runId } });
    const stages = await tx.stageRun.findMany({ where: { runId } });
    return { run, stages };
  });
  return runView(prisma, result.run, result.stages);
}

export async function readStageLogs(prisma: PrismaClient, actor: Actor, runId: string, stageRunId: string, query: z.output<typeof LogsQuery>) {
  await loadRunFor(prisma, actor, runId, 'run.read');
  const stage = await prisma.stageRun.findFirst({ where: { id: stageRunId, runId }, select: { status: true } });
  if (!stage) throw notFound('stage run');
  const chunks = await readChunkPage(prisma, stageRunId, query.after ?? -1, query.limit + 1);
  const hasMore = chunks.length > query.limit;
  const page = hasMore ? chunks.slice(0, query.limit) : chunks;
  const next = page.at(-1)?.seq ?? query.after ?? null;
  // Status was read before the chunks: a finished stage has written all its chunks, so none can be missed.
  const complete = !hasMore && isFinishedStageStatus(stage.status);
  return { chunks: page.map(logChunkDto), next, stageStatus: stage.status, complete };
}
