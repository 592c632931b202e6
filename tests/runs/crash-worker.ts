// A worker process for the crash test (tests/runs/crash-recovery.test.ts): runs one `run` job and prints
// every stored log chunk as a JSON line on stdout, so the test knows what is stored when it SIGKILLs it.
// Usage: node --import tsx tests/runs/crash-worker.ts DATABASE_URL RUN_ID DATA_DIR
import { createPool, createPrismaClient } from '../../lib/db/client';
import type { RunEventPublisher } from '../../lib/events/server-events';
import { runPipelineJob } from '../../worker/jobs/run-pipeline';

const [url, runId, dataDir] = process.argv.slice(2);
if (!url || !runId || !dataDir) throw new Error('usage: crash-worker.ts DATABASE_URL RUN_ID DATA_DIR');
const pool = createPool(url, { max: 4 });
const prisma = createPrismaClient(pool);
const publisher: RunEventPublisher = {
  publish(_target, event) {
    if (event.type === 'stage.log_chunk')
      process.stdout.write(`${JSON.stringify({ stage: event.stage, seq: event.seq, lines: event.lines.map((l) => l.line) })}\n`);
    return Promise.resolve();
  },
};
await runPipelineJob(
  { id: 'crash-worker', payload: { runId }, attempts: 1 },
  { signal: new AbortController().signal },
  { prisma, publisher, dataDir, cancelPollMs: 200 },
);
process.stdout.write('{"done":true}\n');
await prisma.$disconnect();
await pool.end();
