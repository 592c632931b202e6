/**
 * The `schedule` job (payload `{ pipelineId, slot }`, enqueued by the elected scheduler, lib/schedule, with
 * dedupe key `schedule:<pipelineId>:<slot>`): creates the pipeline's scheduled run with lib/runs/create-run
 * (event `schedule`, branch = the pipeline's defaultBranch, triggeredBy `schedule`), from its CURRENT
 * stored config.
 *
 * Idempotent (a job runs at least once): in the transaction creating the run, the job row is locked and
 * the run's id written into its payload (`runId`); a second execution of the same job finds it and stops.
 * With the dedupe key, a (pipeline, slot) gets at most one run.
 *
 * Nothing to run is not a failure (the job succeeds, with a warning, and the slot is consumed): pipeline
 * deleted or archived, config no longer stored or invalid, no `on "schedule"` any more (NotTriggeredError),
 * a plan error (PlanError: e.g. a variable without a default). Anything else (the database) throws: the
 * job is retried with backoff.
 */
import { z } from 'zod';
import { queryRows, type PrismaClient } from '../../lib/db/client';
import type { Logger } from '../../lib/log';
import { loadPipeline, PlanError } from '../../lib/pipeline';
import type { JobHandler } from '../../lib/queue/runner';
import { createRun, NotTriggeredError } from '../../lib/runs/create-run';

const ScheduleJobPayload = z.object({ pipelineId: z.string().min(1), slot: z.string().min(1) });

/** Like the API's trigger: creations for one pipeline wait for its row lock. */
const CREATE_TX = { maxWait: 15_000, timeout: 20_000 };

export interface ScheduleJobDeps {
  prisma: PrismaClient;
  /** Default: the runner's logger (JobContext.log). */
  log?: Logger;
}

export type ScheduleJobOutcome =
  { status: 'created'; runId: string; number: number } | { status: 'exists'; runId: string } | { status: 'skipped'; reason: string };

/** Creates the run of one slot; exported for tests (the handler below wraps it). */
export async function runScheduleJob(deps: ScheduleJobDeps, job: { id: string; payload: unknown }, log: Logger): Promise<ScheduleJobOutcome> {
  const { pipelineId, slot } = ScheduleJobPayload.parse(job.payload);
  const skip = (reason: string, level: 'info' | 'warn' = 'warn'): ScheduleJobOutcome => {
    log[level]({ pipelineId, slot, reason }, 'scheduled run skipped');
    return { status: 'skipped', reason };
  };

  const pipeline = await deps.prisma.pipeline.findUnique({
    where: { id: pipelineId },
    select: {
      id: true,
      config: true,
      configPath: true,
      defaultBranch: true,
      repository: true,
      archivedAt: true,
      tenantId: true,
      tenant: { select: { organizationId: true } },
    },
  });
  if (!pipeline) return skip('the pipeline no longer exists', 'info');
  if (pipeline.archivedAt) return skip('the pipeline is archived', 'info');
  if (pipeline.config === null) return skip('the pipeline has no stored config');
  const config = pipeline.config;
  const { spec, diagnostics } = loadPipeline(config, pipeline.configPath);
  if (!spec) {
    const first = diagnostics.find((d) => d.severity === 'error');
    return skip(`the stored config is invalid${first ? `: ${first.file}:${first.line}:${first.column}: ${first.message}` : ''}`);
  }

  try {
    return await deps.prisma.$transaction(async (tx): Promise<ScheduleJobOutcome> => {
      // Lock the job row: a second execution of this job (after a crash or a lost lease) waits here, then
      // sees the run id written below.
      const [row] = await queryRows<{ run_id: string | null }>(tx, `SELECT payload->>'runId' AS run_id FROM jobs WHERE id = $1::uuid FOR UPDATE`, [job.id]);
      if (row?.run_id) return { status: 'exists', runId: row.run_id };

      const trigger = { event: 'schedule' as const, branch: pipeline.defaultBranch };
      // A pipeline with a repository checks out its default branch's head, resolved by the worker when the run starts.
      const created = await createRun(tx, {
        pipeline: { id: pipeline.id, config },
        spec,
        trigger,
        triggeredById: null,
        triggeredBy: 'schedule',
        checkout: pipeline.repository !== null,
      });
      await tx.$executeRawUnsafe(`UPDATE jobs SET payload = payload || jsonb_build_object('runId', $2::text) WHERE id = $1::uuid`, job.id, created.run.id);
      await tx.auditLog.create({
        data: {
          organizationId: pipeline.tenant.organizationId,
          tenantId: pipeline.tenantId,
          // The system itself: no user, no API key.
          actorUserId: null,
          action: 'run.trigger',
          targetType: 'run',
          targetId: created.run.id,
          details: { pipelineId, number: created.number, event: 'schedule', branch: pipeline.defaultBranch, tag: null, slot },
        },
      });
      return { status: 'created', runId: created.run.id, number: created.number };
    }, CREATE_TX);
  } catch (error) {
    if (error instanceof NotTriggeredError) return skip(`the pipeline no longer runs on schedule: ${error.message}`);
    if (error instanceof PlanError) return skip(`planning failed: ${error.message}`);
    throw error;
  }
}

export function createScheduleHandler(deps: ScheduleJobDeps): JobHandler {
  return async (job, ctx) => {
    const log = deps.log ?? ctx.log;
    const outcome = await runScheduleJob(deps, job, log);
    if (outcome.status === 'created') log.info({ runId: outcome.runId, number: outcome.number, payload: job.payload }, 'scheduled run created');
  };
}
