/**
 * Server mode, log throughput: a local-executor stage printing 1,000,000 lines (`seq 1 1000000`), run by the
 * real worker, every line stored in LogChunk rows AND delivered live to a Socket.IO client, against spawning
 * `seq 1 1000000` from this process and draining its stdout (the floor: the same stream read into nothing).
 *
 * - Worker: worker/main.ts in its own process (JobRunner, run handler, StoreSink: ~100 ms / 64 KiB chunks,
 *   published with the postgres-emitter: a NOTIFY plus an attachments row per chunk over 8000 bytes).
 * - Web side: a real `attachRealtime` on a node:http server on a loopback port, in THIS process (the
 *   postgres adapter LISTENs and fetches the attachments), and a `followRun` client (the CLI's
 *   `--follow`), also in this process, counting lines until the run has finished.
 * - A sample: trigger (`triggerRun`, as the API does) → the client has every line and the run is finished.
 *   It fails unless the client got exactly 1,000,000 lines, in order, and the stored chunks hold them too.
 * - Printed: the ratio, lines/s of both, and when the worker had finished the run (its stored finish time)
 *   against when the client had the last line, to tell the worker's cost from the delivery's.
 * - Attribution: the same stage through the orchestrator + LocalExecutor alone, in this process, with a sink
 *   that only counts the lines (no database, no Socket.IO): the per-line cost of the in-process path.
 *
 * Env: BENCH_LOGS_RUNS (default 3), BENCH_LOGS_LINES (default 1000000). BENCH_CPU_PROF=DIR writes a CPU
 * profile of the worker to DIR (profile this process with `node --cpu-prof --import tsx bench/server-logs.bench.ts`).
 * Needs PostgreSQL: uses BUILDIT_TEST_PG_URL, or starts a throwaway server.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { triggerRun } from '../lib/api/services/runs';
import { TriggerRunBody } from '../lib/api/schemas/runs';
import { followRun } from '../lib/realtime/client';
import { attachRealtime } from '../lib/realtime/server';
import { LocalExecutor } from '../lib/engine/executors/local';
import { HostStorage } from '../lib/engine/workspace/storage';
import { runPlan } from '../lib/engine/orchestrator';
import { planOf, stage } from '../tests/support/plans';
import { printRatio, summarize } from './support';
import { benchDatabase, cleanup, createBenchPipeline, onCleanup, seedBenchTenant, startWorkerProcess } from './support-db';

const RUNS = Number(process.env.BENCH_LOGS_RUNS ?? 3);
const LINES = Number(process.env.BENCH_LOGS_LINES ?? 1_000_000);
const SAMPLE_TIMEOUT_MS = 600_000;

const linesPerSecond = (ms: number) => Math.round(LINES / (ms / 1000)).toLocaleString('en-US');

let failed = false;
try {
  const db = await benchDatabase();
  const dir = await mkdtemp(path.join(tmpdir(), 'buildit-bench-logs-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  const tenant = await seedBenchTenant(db.prisma);
  const pipelineId = await createBenchPipeline(
    db.prisma,
    tenant.tenantId,
    `pipeline "logs" {\n    on "manual"\n}\nstage "print" {\n    executor "local"\n    run "seq 1 ${LINES}"\n}\n`,
  );
  const body = TriggerRunBody.parse({ event: 'manual' });

  // The web server's realtime side, on a loopback port.
  const http = createServer((_req, res) => void res.writeHead(404).end());
  const realtime = await attachRealtime(http, { pool: db.pool, prisma: db.prisma, log: pino({ level: 'silent' }) });
  onCleanup(async () => {
    await realtime.close();
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  const profileDir = process.env.BENCH_CPU_PROF;
  const worker = await startWorkerProcess({
    databaseUrl: db.url,
    dataDir: path.join(dir, 'data'),
    ...(profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] } : {}),
  });

  const workerDone: number[] = [];
  const chunkCounts: number[] = [];

  async function candidate(): Promise<void> {
    const start = performance.now();
    const run = await triggerRun(db.prisma, tenant.actor, pipelineId, body, null);
    let received = 0;
    let chunks = 0;
    let outOfOrder: string | null = null;
    let lastLine = '';
    const follow = followRun({
      url,
      token: tenant.token,
      runId: run.id,
      onChunk: (chunk) => {
        if (chunk.firstLine !== received + 1) outOfOrder ??= `chunk ${chunk.seq} starts at line ${chunk.firstLine}, after ${received} lines`;
        received += chunk.lines.length;
        chunks++;
        lastLine = chunk.lines.at(-1)?.line ?? lastLine;
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const snapshot = await Promise.race([
      follow.done,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          follow.close();
          reject(new Error(`no end of run ${run.id} after ${SAMPLE_TIMEOUT_MS} ms (${received} lines received); worker:\n${worker.output()}`));
        }, SAMPLE_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    const elapsed = performance.now() - start;

    if (snapshot.status !== 'succeeded') throw new Error(`run ${run.id} ended ${snapshot.status}; worker:\n${worker.output()}`);
    if (outOfOrder) throw new Error(`the client got lines out of order: ${outOfOrder}`);
    if (received !== LINES || lastLine !== String(LINES)) throw new Error(`the client got ${received} lines (last "${lastLine}"), expected exactly ${LINES}`);
    const stored = await db.pool.query<{ lines: number; chunks: number }>(
      'SELECT COALESCE(sum(c.line_count), 0)::int AS lines, count(*)::int AS chunks FROM log_chunks c JOIN stage_runs s ON s.id = c.stage_run_id WHERE s.run_id = $1',
      [run.id],
    );
    if (stored.rows[0]!.lines !== LINES) throw new Error(`${stored.rows[0]!.lines} lines stored in LogChunk rows, expected ${LINES}`);
    const finished = await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: run.id }, select: { finishedAt: true } });
    workerDone.push(finished.finishedAt!.getTime() - (performance.timeOrigin + start));
    chunkCounts.push(chunks);

    // Untimed: the job finishes, and the log is deleted so every sample starts from the same table size.
    for (;;) {
      const job = await db.prisma.job.findFirst({ where: { dedupeKey: `run:${run.id}` }, select: { status: true } });
      if (job?.status === 'succeeded') break;
      if (worker.child.exitCode !== null) throw new Error(`the worker exited:\n${worker.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await db.pool.query('DELETE FROM log_chunks c USING stage_runs s WHERE s.id = c.stage_run_id AND s.run_id = $1', [run.id]);
    console.log(`  sample: ${(elapsed / 1000).toFixed(2)} s, ${linesPerSecond(elapsed)} lines/s to the client, ${chunks} chunks`);
  }

  async function baseline(): Promise<void> {
    const child = spawn('seq', ['1', String(LINES)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let newlines = 0;
    child.stdout.on('data', (data: Buffer) => {
      for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) newlines++;
    });
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`seq exited ${code}`))));
    });
    if (newlines !== LINES) throw new Error(`baseline read ${newlines} lines, expected ${LINES}`);
  }

  const executor = new LocalExecutor({ storage: new HostStorage({ runsRoot: path.join(dir, 'runs'), cacheRoot: path.join(dir, 'caches') }) });
  const plan = planOf([stage('print', { commands: [`seq 1 ${LINES}`] })]);
  let inProcessRuns = 0;
  async function orchestratorOnly(): Promise<void> {
    let lines = 0;
    const result = await runPlan({
      plan,
      runId: `bench-logs-${++inProcessRuns}`,
      executors: { local: executor },
      defaultExecutor: 'local',
      sink: { emit: (event) => void (event.type === 'stage.log' && lines++) },
    });
    if (result.status !== 'succeeded' || lines !== LINES) throw new Error(`orchestrator-only run: ${result.status}, ${lines} lines`);
  }

  console.log(
    `${LINES.toLocaleString('en-US')} lines per sample, ${RUNS} samples each (after 1 warm-up), interleaved; worker: worker/main.ts in its own ` +
      'process (local executor); realtime server + followRun client: in this process',
  );
  const candidateSamples: number[] = [];
  const baselineSamples: number[] = [];
  const timed = async (fn: () => Promise<void>) => {
    const start = performance.now();
    await fn();
    return performance.now() - start;
  };
  await candidate();
  await baseline();
  workerDone.length = 0;
  chunkCounts.length = 0;
  const inProcessSamples: number[] = [];
  await orchestratorOnly();
  for (let i = 0; i < RUNS; i++) {
    candidateSamples.push(await timed(candidate));
    baselineSamples.push(await timed(baseline));
    inProcessSamples.push(await timed(orchestratorOnly));
  }
  const c = summarize(candidateSamples);
  const b = summarize(baselineSamples);
  printRatio(`server-logs: ${LINES.toLocaleString('en-US')} lines stored + delivered over Socket.IO vs draining \`seq\` in Node`, c.p50 / b.p50, c, b);
  console.log(`server-logs: ${linesPerSecond(c.p50)} lines/s (stored + delivered, p50) vs ${linesPerSecond(b.p50)} lines/s (bare drain, p50)`);
  const o = summarize(inProcessSamples);
  printRatio('server-logs (attribution): orchestrator + LocalExecutor alone, counting sink, vs draining `seq` in Node', o.p50 / b.p50, o, b);
  console.log(`server-logs (attribution): ${linesPerSecond(o.p50)} lines/s through the orchestrator alone (p50)`);
  console.log(
    `server-logs: the worker had finished the run after ${(summarize(workerDone).p50 / 1000).toFixed(2)} s (p50, its stored finish time), the client had the last line after ` +
      `${(c.p50 / 1000).toFixed(2)} s; ~${summarize(chunkCounts).p50} chunks per run; the client got exactly ${LINES.toLocaleString('en-US')} lines every time`,
  );
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  await cleanup();
}
if (failed) process.exitCode = 1;
