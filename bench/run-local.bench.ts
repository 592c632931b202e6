/**
 * `buildit run` cost on the local executor: a 50-stage DAG of `true` stages (10 levels of 5, each
 * level needing the whole previous one) through the orchestrator + LocalExecutor, against a bare Node
 * loop that spawns the same 50 `sh -c true` in the same order, level by level, with the same
 * parallelism: so the ratio is the orchestrator's and the executor's own overhead. Goal: at most 1.15x.
 * For reference, the same DAG as a shell script (a `wait -n` pool), which forks a small shell instead of
 * this large Node process.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { HostStorage } from '../lib/engine/workspace/storage';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import type { ExecutionPlan } from '../lib/pipeline/plan-types';
import { LocalExecutor } from '../lib/engine/executors/local';
import { runPlan } from '../lib/engine/orchestrator';
import { planOf, stage } from '../tests/support/plans';
import { compare } from './support';

const LEVELS = 10;
const WIDTH = 5;
const CONCURRENCY = availableParallelism();

function dagPlan(): ExecutionPlan {
  const stages = [];
  for (let level = 0; level < LEVELS; level++) {
    for (let i = 0; i < WIDTH; i++) {
      const needs = level === 0 ? [] : Array.from({ length: WIDTH }, (_, j) => `s${level - 1}-${j}`);
      stages.push(stage(`s${level}-${i}`, { needs, commands: ['true'] }));
    }
  }
  return planOf(stages, { concurrency: CONCURRENCY });
}

const BASELINE_SCRIPT = `
set -e
for level in $(seq 1 ${LEVELS}); do
  running=0
  for i in $(seq 1 ${WIDTH}); do
    # \`wait -n\` returns 127 when the job it would wait for was already reaped: not a failure.
    if [ "$running" -ge ${CONCURRENCY} ]; then wait -n || [ $? -eq 127 ]; running=$((running - 1)); fi
    sh -c true &
    running=$((running + 1))
  done
  wait
done
`;

function baseline(cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', BASELINE_SCRIPT], { cwd, stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`baseline exited ${code}`))));
  });
}

const root = await mkdtemp(path.join(tmpdir(), 'buildit-bench-local-'));
const storage = new HostStorage({ runsRoot: path.join(root, 'runs'), cacheRoot: path.join(root, 'caches') });
const executor = new LocalExecutor({ storage });
await executor.setupRun({ runId: 'bench' });
const workspace = storage.workspaceDir('bench');
const plan = dagPlan();
let runs = 0;
const candidate = async () => {
  const result = await runPlan({
    plan,
    runId: `bench-${++runs}`,
    executors: { local: executor },
    defaultExecutor: 'local',
    sink: { emit() {} },
  });
  if (result.status !== 'succeeded') throw new Error(`run ${result.status}: ${JSON.stringify(result.stages.find((s) => s.status !== 'succeeded'))}`);
};

/**
 * Attribution: the same DAG driven straight through the LocalExecutor (a bare pool, no orchestrator,
 * no events), so the report shows how much of the ratio is the orchestrator and how much the executor.
 */
async function executorOnly(): Promise<void> {
  const runOne = async (stageId: string) => {
    const handle = await executor.spawn({
      runId: 'bench',
      stageId,
      attempt: 1,
      image: null,
      commands: ['true'],
      env: {},
      services: [],
      mounts: [],
      labels: {},
    });
    for await (const _line of executor.logs(handle)) void _line;
    await executor.wait(handle);
    await executor.destroy(handle);
  };
  for (const level of plan.levels) {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < level.length) await runOne(level[next++]!);
      }),
    );
  }
}

/** The baseline: Node's own spawn of the same 50 `sh -c true`, same pool, nothing else. */
async function nodeSpawnOnly(): Promise<void> {
  const runOne = () =>
    new Promise<void>((resolve, reject) => {
      const child = spawn('sh', ['-c', 'true'], { cwd: workspace, stdio: ['ignore', 'pipe', 'pipe'] });
      child.on('error', reject);
      child.on('close', () => resolve());
    });
  for (const level of plan.levels) {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next++ < level.length) await runOne();
      }),
    );
  }
}

console.log(`50-stage DAG (${LEVELS} levels x ${WIDTH}), concurrency ${CONCURRENCY}`);
try {
  await compare('run-local: 50 `true` stages vs a bare Node spawn loop', candidate, nodeSpawnOnly, { runs: 15, warmup: 2, goal: 1.15 });
  await compare('run-local (attribution): orchestrator vs the bare LocalExecutor', candidate, executorOnly, { runs: 10, warmup: 1 });
  await compare('run-local (reference): bare Node spawn loop vs a shell script', nodeSpawnOnly, () => baseline(workspace), { runs: 10, warmup: 1 });
} finally {
  await rm(root, { recursive: true, force: true });
}
