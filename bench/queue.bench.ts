/**
 * Job queue throughput: enqueue N no-op jobs (one INSERT ... SELECT, one NOTIFY), then time until every one
 * is completed, through JobRunners (1 runner; 4 runners of 1 slot each, as 4 worker processes would; 1 runner
 * with 4 slots, the worker's default), as a ratio to a bare SQL loop on one connection running the same
 * claim + complete statements back to back with no runner around them (no wake-ups, heartbeats, events).
 * Above 1x is the runner's overhead; below 1x is parallelism the bare loop cannot have.
 * Needs PostgreSQL: uses BUILDIT_TEST_PG_URL, or starts a throwaway server.
 */
import pg from 'pg';
import { createPool } from '../lib/db/client';
import { claimNextJob } from '../lib/queue/claim';
import { completeJob } from '../lib/queue/complete';
import { JobRunner } from '../lib/queue/runner';
import { compare } from './support';
import { benchDatabase, cleanup } from './support-db';

const JOBS = Number(process.env.BENCH_QUEUE_JOBS ?? 500);
const RUNS = Number(process.env.BENCH_QUEUE_RUNS ?? 7);

const db = await benchDatabase();
// The runners of a group stay started while the baseline runs (compare() interleaves the two): the
// baseline's jobs are of another kind, which the runners neither claim nor wake up for.
const enqueue = async (kind: 'noop' | 'bare') => {
  await db.pool.query('TRUNCATE jobs');
  await db.pool.query('INSERT INTO jobs (kind) SELECT $2 FROM generate_series(1, $1)', [JOBS, kind]);
};

const bare = new pg.Client({ connectionString: db.url });
await bare.connect();
async function bareLoop(): Promise<void> {
  await enqueue('bare');
  let done = 0;
  for (;;) {
    const job = await claimNextJob(bare, { workerId: 'bare', leaseMs: 15_000, kinds: ['bare'] });
    if (!job) break;
    await completeJob(bare, job.id, 'bare');
    done++;
  }
  if (done !== JOBS) throw new Error(`bare loop completed ${done} of ${JOBS}`);
}

const pools: pg.Pool[] = [];
/** Started once and kept idle between samples; a sample = enqueue + wait for N completions. */
async function startGroup(runners: number, concurrency: number): Promise<() => Promise<void>> {
  let settled = 0;
  let onAllDone: (() => void) | null = null;
  const group = Array.from({ length: runners }, (_, i) => {
    const pool = createPool(db.url, { max: concurrency + 2 });
    pools.push(pool);
    const runner = new JobRunner({ pool, workerId: `bench-${runners}x${concurrency}-${i}`, concurrency, kinds: ['noop'], handlers: { noop: async () => {} } });
    runner.on('settled', (_job, result) => {
      if (result.outcome !== 'succeeded') throw new Error(`bench job ended ${result.outcome}`);
      if (++settled === JOBS) onAllDone?.();
    });
    return runner;
  });
  await Promise.all(group.map((r) => r.start()));
  stops.push(() => Promise.all(group.map((r) => r.stop({ graceMs: 1_000 }))).then(() => {}));
  return async () => {
    settled = 0;
    const allDone = new Promise<void>((resolve) => {
      onAllDone = resolve;
    });
    await enqueue('noop');
    await allDone;
  };
}
const stops: (() => Promise<void>)[] = [];

try {
  console.log(`${JOBS} no-op jobs per sample, ${RUNS} samples each; baseline: claim + complete SQL in a loop on one connection`);
  // One group at a time: an idle group left running would claim the next group's jobs.
  for (const [name, runners, concurrency] of [
    ['1 runner (1 slot)', 1, 1],
    ['4 runners (1 slot each)', 4, 1],
    ['1 runner with 4 slots', 1, 4],
  ] as const) {
    const sampleRun = await startGroup(runners, concurrency);
    await compare(`queue: ${name} vs bare claim+complete loop`, sampleRun, bareLoop, { runs: RUNS, warmup: 1 });
    await stops.pop()?.();
  }
} finally {
  for (const stop of stops) await stop();
  await Promise.all(pools.map((p) => p.end()));
  await bare.end();
  await cleanup();
}
