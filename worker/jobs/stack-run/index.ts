/**
 * The `stack_run` job (payload `{ runId, phase }`, lib/stacks/runs.ts): the plan phase when a run is created,
 * the apply phase when it is approved (or at once after the plan on an auto-apply stack). Each phase reads
 * the run's status first, so a job that runs twice does nothing twice: see plan.ts and apply.ts.
 */
import { z } from 'zod';
import type { JobHandler } from '../../../lib/queue/runner';
import { announceStackRun } from './announce';
import { applyPhase } from './apply';
import { planPhase } from './plan';
import { refuseOnThisWorker } from './refused';
import type { StackRunDeps } from './session';

export type { StackRunDeps } from './session';

const Payload = z.object({ runId: z.string().min(1), phase: z.enum(['plan', 'apply']) });

export function createStackRunHandler(deps: StackRunDeps): JobHandler {
  return async (job, ctx) => {
    const { runId, phase } = Payload.parse(job.payload);
    const log = ctx.log.child({ stackRunId: runId, phase });
    if (!deps.hostProcesses) {
      await refuseOnThisWorker(deps, runId);
      await announceStackRun(deps, runId, log);
      return;
    }
    const jobDeps = { ...deps, onLogStored: () => void announceStackRun(deps, runId, log) };
    try {
      if (phase === 'plan' && (await planPhase(jobDeps, runId, ctx.signal, log)) === 'done') return;
      await applyPhase(jobDeps, runId, ctx.signal, log);
    } finally {
      // The phase's last status (planned, applied, errored, ...) is stored by now.
      await announceStackRun(deps, runId, log);
    }
  };
}
