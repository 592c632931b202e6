/** The executors of a server worker: only those the operator enabled (BUILDIT_WORKER_EXECUTORS). */
import type { WorkerExecutorName } from '../../../lib/config/env';
import { createExecutor } from '../../../lib/engine/executors';
import type { Executor } from '../../../lib/engine/executors/types';
import type { HostStorage } from '../../../lib/engine/workspace/storage';

/** The enabled executors on the worker's storage; docker's engine is asked only when a stage starts (and says so when it is down). */
export function createWorkerExecutors(names: readonly WorkerExecutorName[], storage: HostStorage): Record<string, Executor> {
  return Object.fromEntries(names.map((name) => [name, createExecutor(name, storage)]));
}

/** Why a stage cannot use an executor this worker does not run: the stage fails with this reason. */
export function unavailableReasons(enabled: string[]): Record<string, string> {
  const reasons: Record<string, string> = {
    local:
      'executor "local" is disabled on this worker: it would run the stage as a process on the worker\'s own host, with its files and rights; ' +
      'an operator who accepts that starts the worker with BUILDIT_WORKER_EXECUTORS=docker,local (or give the stage an image)',
    docker: 'executor "docker" is disabled on this worker: start it with BUILDIT_WORKER_EXECUTORS=docker (the default)',
  };
  for (const name of enabled) delete reasons[name];
  return reasons;
}
