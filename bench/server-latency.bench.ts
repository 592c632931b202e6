/**
 * Server mode, trigger-to-first-command latency: from calling the API's trigger service (`triggerRun`, what
 * `POST /api/v1/pipelines/{id}/runs` runs after authentication: plan + run + stage runs + `run` job in one
 * transaction, NOTIFY at commit) until the stage's first command actually runs, against spawning the same
 * command straight from this process (`sh -c '...'`). p50 and p95 ratios.
 *
 * - The worker is a SEPARATE PROCESS: the real worker/main.ts (JobRunner woken by the NOTIFY, the `run`
 *   handler, StoreSink, the Socket.IO postgres-emitter publisher), started once and idle between samples.
 * - The stage is one local-executor command, `echo go > FIFO`: this process holds the read end of a named
 *   pipe open and takes the time when the first byte arrives; the baseline writes to the same FIFO the same
 *   way, so both are timed by the same clock and the same wake-up path.
 * - After each candidate sample the run and its job are waited for (untimed), so samples never overlap.
 * - An attribution line splits the candidate p50 with the run's stored timestamps (ms resolution): the
 *   trigger call itself, worker pickup (trigger returned → run.started), run.started → stage.started, and
 *   stage.started → the command (stores and publishes stage.started, then spawns).
 *
 * Env: BENCH_LATENCY_RUNS (default 30). BENCH_CPU_PROF=DIR writes a CPU profile of the worker to DIR.
 * Needs PostgreSQL: uses BUILDIT_TEST_PG_URL, or starts a throwaway server.
 */
import { execFileSync, spawn } from 'node:child_process';
import { constants, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { triggerRun } from '../lib/api/services/runs';
import { TriggerRunBody } from '../lib/api/schemas/runs';
import { printRatio, summarize } from './support';
import { benchDatabase, cleanup, createBenchPipeline, onCleanup, seedBenchTenant, startWorkerProcess, type WorkerProcess } from './support-db';

const RUNS = Number(process.env.BENCH_LATENCY_RUNS ?? 30);
const WARMUP = 2;
const SAMPLE_TIMEOUT_MS = 30_000;

/** Opens the FIFO's read end (non-blocking, so no writer is needed yet); `fired` is when the first byte arrives. */
function armFifo(fifo: string): { fired: Promise<number>; close(): void } {
  const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const socket = new net.Socket({ fd, readable: true, writable: false });
  const fired = new Promise<number>((resolve, reject) => {
    socket.once('data', () => resolve(performance.now()));
    socket.once('error', reject);
  });
  fired.catch(() => {});
  return { fired, close: () => void socket.destroy() };
}

async function withTimeout<T>(promise: Promise<T>, what: string, worker?: WorkerProcess): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${SAMPLE_TIMEOUT_MS} ms waiting for ${what}${worker ? `; worker output:\n${worker.output()}` : ''}`)),
      SAMPLE_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const p50 = (values: number[]) => summarize(values).p50;

try {
  const db = await benchDatabase();
  const dir = await mkdtemp(path.join(tmpdir(), 'buildit-bench-latency-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  const fifo = path.join(dir, 'first-command.fifo');
  execFileSync('mkfifo', [fifo]);
  const command = `echo go > ${fifo}`;

  const tenant = await seedBenchTenant(db.prisma);
  const pipelineId = await createBenchPipeline(
    db.prisma,
    tenant.tenantId,
    `pipeline "latency" {\n    on "manual"\n}\nstage "first" {\n    executor "local"\n    run "${command}"\n}\n`,
  );
  const body = TriggerRunBody.parse({ event: 'manual' });
  const profileDir = process.env.BENCH_CPU_PROF;
  const worker = await startWorkerProcess({
    databaseUrl: db.url,
    dataDir: path.join(dir, 'data'),
    ...(profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] } : {}),
  });

  const attribution = { trigger: [] as number[], pickup: [] as number[], toStage: [] as number[], toCommand: [] as number[] };
  const wall = (t: number) => performance.timeOrigin + t;

  async function candidate(): Promise<number> {
    const arm = armFifo(fifo);
    try {
      const start = performance.now();
      const run = await triggerRun(db.prisma, tenant.actor, pipelineId, body, null);
      const triggered = performance.now();
      const ran = await withTimeout(arm.fired, 'the first command', worker);
      // Untimed: let the run and its job finish so the next sample starts with an idle worker.
      await withTimeout(
        (async () => {
          for (;;) {
            const job = await db.prisma.job.findFirst({ where: { dedupeKey: `run:${run.id}` }, select: { status: true, lastError: true } });
            if (job?.status === 'succeeded') return;
            if (job?.status === 'failed') throw new Error(`the run job failed: ${job.lastError}`);
            if (worker.child.exitCode !== null) throw new Error(`the worker exited:\n${worker.output()}`);
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        })(),
        'the run to finish',
        worker,
      );
      const stored = await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: run.id }, include: { stages: true } });
      if (stored.status !== 'succeeded') throw new Error(`run ${run.id} ended ${stored.status}`);
      const runStarted = stored.startedAt!.getTime();
      const stageStarted = stored.stages[0]!.startedAt!.getTime();
      attribution.trigger.push(triggered - start);
      attribution.pickup.push(runStarted - wall(triggered));
      attribution.toStage.push(stageStarted - runStarted);
      attribution.toCommand.push(wall(ran) - stageStarted);
      return ran - start;
    } finally {
      arm.close();
    }
  }

  async function baseline(): Promise<number> {
    const arm = armFifo(fifo);
    try {
      const start = performance.now();
      const child = spawn('sh', ['-c', command], { stdio: 'ignore' });
      const exited = new Promise<void>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`sh exited ${code}`))));
      });
      const ran = await withTimeout(arm.fired, 'the baseline command');
      await exited;
      return ran - start;
    } finally {
      arm.close();
    }
  }

  console.log(`${RUNS} samples each (after ${WARMUP} warm-up), interleaved; worker: worker/main.ts in its own process, local executor`);
  for (let i = 0; i < WARMUP; i++) {
    await candidate();
    await baseline();
  }
  for (const list of Object.values(attribution)) list.length = 0;
  const candidateSamples: number[] = [];
  const baselineSamples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    candidateSamples.push(await candidate());
    baselineSamples.push(await baseline());
  }
  const c = summarize(candidateSamples);
  const b = summarize(baselineSamples);
  printRatio('server-latency p50: trigger → first command (worker process) vs `sh -c` from the bench', c.p50 / b.p50, c, b);
  console.log(`server-latency p95: ratio ${(c.p95 / b.p95).toFixed(2)}x (candidate p95 ${c.p95.toFixed(2)} ms, baseline p95 ${b.p95.toFixed(2)} ms)`);
  console.log(
    `server-latency attribution (p50 of each part, ms; DB timestamps have ms resolution): trigger call ${p50(attribution.trigger).toFixed(1)}, ` +
      `worker pickup (trigger returned → run.started) ${p50(attribution.pickup).toFixed(1)}, run.started → stage.started ${p50(attribution.toStage).toFixed(1)}, ` +
      `stage.started → command runs ${p50(attribution.toCommand).toFixed(1)}`,
  );
} finally {
  await cleanup();
}
