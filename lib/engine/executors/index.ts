/**
 * Executor selection, as Woodpecker's FindBackend: by name. Every executor of one process shares the
 * host storage (workspaces, cache volumes); see types.ts for the contract.
 */
import Docker from 'dockerode';
import type { HostStorage } from '../workspace/storage';
import { DockerExecutor, type DockerExecutorOptions } from './docker';
import { LocalExecutor, type LocalExecutorOptions } from './local';
import type { Executor } from './types';

export * from './types';
export { LocalExecutor, type LocalExecutorOptions } from './local';
export {
  DockerExecutor,
  findContainersByLabel,
  removeContainersByLabel,
  type DockerExecutorOptions,
  type DockerNetworkMode,
  type FoundContainer,
  type PullPolicy,
} from './docker';

export type HostExecutorName = 'local' | 'docker';

/** An executor by name, on `storage`; `options` are the named executor's own settings. */
export function createExecutor(
  name: HostExecutorName,
  storage: HostStorage,
  options: Omit<LocalExecutorOptions, 'storage'> & Omit<DockerExecutorOptions, 'storage'> = {},
): Executor {
  switch (name) {
    case 'local':
      return new LocalExecutor({ ...options, storage });
    case 'docker':
      return new DockerExecutor({ ...options, storage });
    default:
      throw new Error(`unknown executor ${String(name)}: use 'local' or 'docker'`);
  }
}

/**
 * True when a Docker engine answers a ping within `timeoutMs` (default 2000). With no `docker`
 * given, it asks the engine at DOCKER_HOST and returns false when DOCKER_HOST is unset, so it never
 * probes the system's default socket behind the user's back.
 */
export async function detectDockerAvailable(options: { docker?: Docker; timeoutMs?: number } = {}): Promise<boolean> {
  if (!options.docker && !process.env.DOCKER_HOST) return false;
  const docker = options.docker ?? new Docker();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), options.timeoutMs ?? 2000);
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
