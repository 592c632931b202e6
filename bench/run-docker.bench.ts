/**
 * `buildit run` cost on the docker executor: one `true` stage through the orchestrator and the
 * DockerExecutor, against `docker run --rm --pull never --network none local/busybox true` on the
 * same engine. Goal: under 1.15x. Skips (exit 0, with a message) when no engine answers at DOCKER_HOST.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { detectDockerAvailable } from '../lib/engine/executors';
import { DockerExecutor } from '../lib/engine/executors/docker';
import { HostStorage } from '../lib/engine/workspace/storage';
import { runPlan } from '../lib/engine/orchestrator';
import { planOf, stage } from '../tests/support/plans';
import { compare } from './support';

const IMAGE = 'local/busybox:latest';

if (!(await detectDockerAvailable())) {
  console.log('run-docker: SKIPPED: no Docker engine at DOCKER_HOST (run `bash scripts/docker-engine.sh up` and export DOCKER_HOST)');
  process.exit(0);
}
const docker = new Docker();
const hasImage = await docker
  .getImage(IMAGE)
  .inspect()
  .then(
    () => true,
    () => false,
  );
if (!hasImage) {
  console.log(`run-docker: SKIPPED: image ${IMAGE} is missing (bash scripts/docker-engine.sh up builds it)`);
  process.exit(0);
}

const root = await mkdtemp(path.join(tmpdir(), 'buildit-bench-docker-'));
const executor = new DockerExecutor({ docker, storage: new HostStorage({ runsRoot: path.join(root, 'runs'), cacheRoot: path.join(root, 'caches') }) });
const plan = planOf([stage('true', { image: IMAGE, commands: ['true'] })]);
let runs = 0;

async function candidate(): Promise<void> {
  const result = await runPlan({
    plan,
    runId: `bench-docker-${process.pid}-${++runs}`,
    executors: { docker: executor },
    defaultExecutor: 'docker',
    sink: { emit() {} },
  });
  if (result.status !== 'succeeded') throw new Error(`run ${result.status}: ${result.stages[0]?.reason}`);
}

function baseline(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', ['run', '--rm', '--pull', 'never', '--network', 'none', IMAGE, 'true'], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`docker run exited ${code}`))));
  });
}

try {
  await compare('run-docker: one `true` stage vs docker run --rm', candidate, baseline, { runs: 15, warmup: 2, goal: 1.15 });
} finally {
  await rm(root, { recursive: true, force: true });
}
