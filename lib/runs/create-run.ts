/**
 * Creating a run: one transaction that numbers it, plans it, stores its stages and enqueues the `run`
 * job. Shared by everything that starts runs (the REST API, the scheduler, re-runs), which add their
 * own authorization and auditing around it.
 *
 * The run number comes from Pipeline.nextRunNumber, incremented first: the UPDATE's row lock serializes
 * concurrent creations for one pipeline, so numbers are unique and gapless (a creation that fails later
 * rolls its increment back).
 */
import type { Prisma } from '../db/client';
import { plan, type ExecutionPlan, type PipelineSpec, type TriggerContext } from '../pipeline';
import { enqueueJob } from '../queue/enqueue';

export type Tx = Prisma.TransactionClient;

/** The trigger filters (`on ...`) do not match this trigger: nothing would run. */
export class NotTriggeredError extends Error {
  constructor(readonly reason: string | null) {
    super(`the pipeline does not run for this trigger: ${reason ?? 'its filters do not match'}`);
    this.name = 'NotTriggeredError';
  }
}

export interface NewRun {
  pipeline: { id: string; config: string };
  spec: PipelineSpec;
  /** The trigger without the run's identity, which is only known inside the transaction. */
  trigger: Omit<TriggerContext, 'runId' | 'runNumber'>;
  /** The user who started it, if a person did. */
  triggeredById: string | null;
  /** What started it when no person did (e.g. `schedule`). */
  triggeredBy?: string | null;
}

/** Creates the run, its stage rows and its `run` job in `tx`; throws PlanError or NotTriggeredError. */
export async function createRun(tx: Tx, input: NewRun) {
  const { pipeline, trigger } = input;
  const counter = await tx.pipeline.update({ where: { id: pipeline.id }, data: { nextRunNumber: { increment: 1 } }, select: { nextRunNumber: true } });
  const number = counter.nextRunNumber - 1;
  const created = await tx.pipelineRun.create({
    data: {
      pipelineId: pipeline.id,
      number,
      status: 'queued',
      event: trigger.event,
      branch: trigger.branch ?? null,
      tag: trigger.tag ?? null,
      commitSha: trigger.sha ?? null,
      commitMessage: trigger.message ?? null,
      commitAuthor: trigger.author ?? null,
      variables: trigger.variables ?? {},
      // Replaced below: the plan needs the run's id.
      plan: {},
      configSource: pipeline.config,
      triggeredById: input.triggeredById,
      triggeredBy: input.triggeredBy ?? null,
    },
  });

  const executionPlan: ExecutionPlan = plan(input.spec, { ...trigger, runId: created.id, runNumber: number });
  if (!executionPlan.triggered) throw new NotTriggeredError(executionPlan.notTriggeredReason);

  const run = await tx.pipelineRun.update({ where: { id: created.id }, data: { plan: executionPlan as unknown as Prisma.InputJsonValue } });
  await tx.stageRun.createMany({
    data: executionPlan.stages.map((stage) => ({
      runId: run.id,
      stageId: stage.id,
      name: stage.name,
      matrix: stage.matrix,
      needs: stage.needs,
      status: stage.skip ? ('skipped' as const) : ('pending' as const),
      reason: stage.skip?.reason ?? null,
      executor: stage.executor,
    })),
  });
  await enqueueJob(tx, { kind: 'run', payload: { runId: run.id }, dedupeKey: `run:${run.id}` });
  const stages = await tx.stageRun.findMany({ where: { runId: run.id } });
  return { run, stages, number };
}
