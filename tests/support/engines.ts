/**
 * Real engines for tests. A test that needs Docker calls `await dockerOrSkip(t)`: it returns a
 * dockerode client for DOCKER_HOST when that engine answers, and otherwise skips the test, or FAILS
 * it when BUILDIT_REQUIRE_ENGINES=1 (CI sets it so a missing engine cannot pass silently).
 */
import Docker from 'dockerode';
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
