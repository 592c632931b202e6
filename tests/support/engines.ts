/**
 * Real engines for tests. A test that needs Docker calls `await dockerOrSkip(t)`: it returns a
 * dockerode client for DOCKER_HOST when that engine answers, and otherwise skips the test, or FAILS
 * it when BUILDIT_REQUIRE_ENGINES=1 (CI sets it so a missing engine cannot pass silently).
 */
import Docker from 'dockerode';
import { readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { pinToCpu } from './cpu';
import path from 'node:path';
import type { TestContext } from 'node:test';

export const NO_DOCKER_MESSAGE = 'no Docker engine: run scripts/docker-engine.sh up';
/** The only image tests use; scripts/docker-engine.sh builds it offline. */
export const TEST_IMAGE = 'local/busybox:latest';

let cached: Promise<Docker | null> | undefined;

async function connect(): Promise<Docker | null> {
  if (!process.env.DOCKER_HOST) return null;
  const docker = new Docker();
  try {
    await Promise.race([docker.ping(), new Promise((_, reject) => setTimeout(() => reject(new Error('ping timed out')), 3000).unref())]);
    return docker;
  } catch {
    return null;
  }
}

export async function dockerOrSkip(t: TestContext): Promise<Docker | null> {
  cached ??= connect();
  const docker = await cached;
  if (docker) return docker;
  const hint = process.env.DOCKER_HOST
    ? `${NO_DOCKER_MESSAGE} (DOCKER_HOST=${process.env.DOCKER_HOST} does not answer)`
    : `${NO_DOCKER_MESSAGE} and export DOCKER_HOST`;
  if (process.env.BUILDIT_REQUIRE_ENGINES === '1') throw new Error(hint);
  t.skip(hint);
  return null;
}

/**
 * Sets the CPU priority, and with `cpu` the one CPU, of the private engine that scripts/docker-engine.sh started
 * (every thread of dockerd and of the processes it runs now, containerd among them: Linux keeps a niceness per
 * thread; containers started later inherit both). False, and nothing changed, when DOCKER_HOST is not that
 * engine: a developer's own engine is left alone.
 */
export function reniceScriptEngine(niceness: number, cpu?: number): boolean {
  const dir = process.env.BUILDIT_DOCKER_DIR || '/tmp/buildit-docker';
  if (process.env.DOCKER_HOST !== `unix://${dir}/docker.sock`) return false;
  const dockerd = Number(readFileSync(path.join(dir, 'dockerd.pid'), 'utf8').trim());
  const children = (pid: number) => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  for (const pid of [dockerd, ...children(dockerd)]) {
    if (cpu !== undefined) pinToCpu(pid, cpu);
    for (const thread of readdirSync(`/proc/${pid}/task`)) {
      try {
        setPriority(Number(thread), niceness);
      } catch {
        // A thread that ended meanwhile.
      }
    }
  }
  return true;
}
