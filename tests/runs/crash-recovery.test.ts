// Crash recovery for real: a worker PROCESS runs a docker stage and is SIGKILLed mid-stage (no cleanup,
// lines still buffered in memory are lost with it); a new worker claims the job again and finishes the
// run, with every line of the stage stored exactly once and no stage executed twice.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import Docker from 'dockerode';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { findContainersByLabel, removeContainersByLabel } from '../../lib/engine/executors';
import { dockerOrSkip } from '../support/engines';
import { runPipelineJob } from '../../worker/jobs/run-pipeline';
import { RecordingPublisher, runJob, seedTenant, storedLog, triggerPipeline, type Seeded } from './helpers';

const IMAGE = 'local/busybox:latest';
let db: TestDatabase;
let seeded: Seeded;
let dataDir: string;
const docker = new Docker();

before(async () => {
  db = await createTestDatabase();
  seeded = await seedTenant(db.prisma);
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'buildit-crash-'));
});

after(async () => {
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a worker SIGKILLed during a docker stage: the next worker re-attaches, every line exactly once', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  const kdl = `pipeline "crash" { on "manual"; }
stage "slow" {
    image "${IMAGE}"
    run "i=1; while [ $i -le 12 ]; do echo line-$i; sleep 0.25; i=$((i+1)); done"
}
stage "after" needs="slow" {
    image "${IMAGE}"
    run "echo after"
}
`;
  const { runId, stageRunIds } = await triggerPipeline(db.prisma, seeded, kdl);
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'crash-worker.ts'), db.url, runId, dataDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, BUILDIT_LOG_LEVEL: 'warn' },
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    const seenByChild: string[] = [];
    for await (const line of createInterface({ input: child.stdout })) {
      const chunk = JSON.parse(line) as { done?: boolean; lines?: string[] };
      assert.ok(!chunk.done, 'the worker finished before it could be killed');
      seenByChild.push(...(chunk.lines ?? []));
      if (seenByChild.includes('line-3')) {
        child.kill('SIGKILL');
        break;
      }
    }
    assert.equal(await exited, 'SIGKILL');
    const storedBefore = (await storedLog(db.prisma, stageRunIds.get('slow')!)).lines;
    t.diagnostic(`stored when the worker died: ${storedBefore.join(', ')}`);
    assert.deepEqual(
      storedBefore,
      Array.from({ length: storedBefore.length }, (_, i) => `line-${i + 1}`),
    );
    const slowBefore = await db.prisma.stageRun.findFirstOrThrow({ where: { runId, stageId: 'slow' } });
    assert.equal(slowBefore.status, 'running');
    assert.match(slowBefore.handleId ?? '', /^[0-9a-f]{64}$/);
    assert.equal((await findContainersByLabel(docker, { 'buildit.run': runId, 'buildit.stage': 'slow' })).length, 1);

    // The job is claimed again (attempt 2) by another worker.
    const publisher = new RecordingPublisher(db.prisma);
    const outcome = await runPipelineJob(runJob(runId, 2), { signal: new AbortController().signal }, { prisma: db.prisma, publisher, dataDir });
    assert.equal(outcome.kind === 'ran' && outcome.resumed, true);

    const log = await storedLog(db.prisma, stageRunIds.get('slow')!);
    assert.deepEqual(
      log.lines,
      Array.from({ length: 12 }, (_, i) => `line-${i + 1}`),
      'every line exactly once',
    );
    log.chunks.forEach((chunk, index) => assert.equal(chunk.seq, index + 1));
    const stages = await db.prisma.stageRun.findMany({ where: { runId } });
    const slow = stages.find((s) => s.stageId === 'slow')!;
    assert.deepEqual({ status: slow.status, attempt: slow.attempt, exitCode: slow.exitCode }, { status: 'succeeded', attempt: 1, exitCode: 0 });
    assert.equal(stages.find((s) => s.stageId === 'after')!.status, 'succeeded');
    assert.equal(publisher.ofType('stage.started').filter((e) => e.stage === 'slow').length, 0, 'the stage was not started again');
    assert.equal((await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId } })).status, 'succeeded');
    assert.deepEqual(await findContainersByLabel(docker, { 'buildit.run': runId }), [], 'no container is left');
  } finally {
    await removeContainersByLabel(docker, { 'buildit.run': runId });
  }
});
