/** A stack run taken by a worker that may not run terraform on its host: it ends errored, saying how to enable it. */
import { transitionStackRun } from '../../../lib/stacks/runs';
import type { StackRunDeps } from './session';

export const HOST_PROCESSES_REFUSED =
  "terraform runs as a process on the worker's host, where a configuration can run any program (local-exec), and this worker " +
  'runs no process on its host: set BUILDIT_WORKER_EXECUTORS=docker,local on a worker trusted with the stacks (docs/stacks.md), then plan again';

export async function refuseOnThisWorker(deps: Pick<StackRunDeps, 'prisma'>, runId: string): Promise<void> {
  await transitionStackRun(deps.prisma, runId, ['queued', 'planning', 'approved', 'applying'], 'errored', { reason: HOST_PROCESSES_REFUSED });
}
