// The `run` job against a real PostgreSQL, the real local executor and the real Docker engine
// (DOCKER_HOST, image local/busybox:latest; the docker tests are skipped when no engine answers).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import pino from 'pino';
import { cancelRun, readStageLogs } from '../../lib/api/services/runs';
import type { JobHandler } from '../../lib/queue/runner';
import { chunkLines } from '../../lib/runs/log-lines';
import { createTestDatabase, type TestDatabase } from '../../tests/support/db';
import { RecordingPublisher, runJob, seedTenant, storedLog, triggerPipeline, type Seeded } from '../../tests/runs/helpers';
import { findContainersByLabel, removeContainersByLabel } from '../../lib/engine/executors';
import { dockerOrSkip } from '../../tests/support/engines';
import { decideApproval } from '../../lib/runs/approvals';
import { createRunPipelineHandler, runPipelineJob, type RunPipelineDeps } from './run-pipeline';

const IMAGE = 'local/busybox:latest';
let db: TestDatabase;
let seeded: Seeded;
let dataDir: string;
const docker = new Docker();
const neverAborted = { signal: new AbortController().signal };

before(async () => {
  db = await createTestDatabase();
  seeded = await seedTenant(db.prisma);
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'buildit-run-job-'));
});

after(async () => {
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

const silent = pino({ level: 'silent' });

function deps(publisher: RecordingPublisher, extra: Partial<RunPipelineDeps> = {}): RunPipelineDeps {
  return { prisma: db.prisma, publisher, dataDir, cancelPollMs: 200, logger: silent, executorNames: ['docker', 'local'], ...extra };
}

async function stageRows(runId: string) {
  const rows = await db.prisma.stageRun.findMany({ where: { runId } });
  return new Map(rows.map((row) => [row.stageId, row]));
}

function assertContiguous(chunks: Array<{ seq: number; firstLine: number; lineCount: number }>): void {
  let line = 1;
  chunks.forEach((chunk, index) => {
    assert.equal(chunk.seq, index + 1, 'seq is 1, 2, 3...');
    assert.equal(chunk.firstLine, line, 'line numbers continue from chunk to chunk');
    line += chunk.lineCount;
  });
}

/** Every published event found the database already in the state it announces. */
function assertWrittenBeforePublished(publisher: RecordingPublisher): void {
  for (const { event, db: seen } of publisher.published) {
    switch (event.type) {
      case 'run.started':
        assert.equal(seen.runStatus, 'running');
        break;
      case 'run.finished':
        assert.equal(seen.runStatus, event.status);
        break;
      case 'stage.queued':
        assert.ok(seen.stageStatus === 'queued', `${event.stage}: ${seen.stageStatus}`);
        break;
      case 'stage.waiting_approval':
        assert.equal(seen.stageStatus, 'waiting_approval');
        break;
      case 'stage.started':
        assert.equal(seen.stageStatus, 'running');
        assert.equal(seen.stageAttempt, event.attempt);
        break;
      case 'stage.finished':
        assert.equal(seen.stageStatus, event.status);
        assert.equal(seen.stageExitCode, event.exitCode);
        break;
      case 'stage.log_chunk':
        assert.equal(seen.chunkStored, true, `chunk ${event.seq} of ${event.stage} stored before it was published`);
        assert.equal(seen.chunkText, event.lines.map((l) => `${l.line}\n`).join(''));
        break;
    }
  }
}

/** For each stage, its chunks are published before its stage.finished, and nothing of it after. */
function assertLogsBeforeFinish(publisher: RecordingPublisher): void {
  const finished = new Set<string>();
  for (const { event } of publisher.published) {
    if (event.type === 'stage.finished') finished.add(event.stage);
    else if (event.type === 'stage.log_chunk' || event.type === 'stage.started')
      assert.ok(!finished.has(event.stage), `${event.type} of ${event.stage} after it finished`);
  }
}

describe('runPipelineJob on the local executor', () => {
  test('a run succeeds: stage runs, logs and events are stored before they are published', async () => {
    const kdl = `pipeline "ok" { on "manual"; }
stage "build" {
    executor "local"
    run "echo one; echo two; echo three"
    run "echo warning >&2"
}
stage "test" needs="build" {
    executor "local"
    run "echo test-ok"
}
stage "release-only" {
    executor "local"
    when branch="release"
    run "echo never"
}
`;
    const { runId, stageRunIds } = await triggerPipeline(db.prisma, seeded, kdl);
    const publisher = new RecordingPublisher(db.prisma);
    const outcome = await runPipelineJob(runJob(runId), neverAborted, deps(publisher));
    assert.equal(outcome.kind, 'ran');
    assert.equal(outcome.kind === 'ran' && outcome.result.status, 'succeeded');

    const run = await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId } });
    assert.equal(run.status, 'succeeded');
    assert.ok(run.startedAt && run.finishedAt && run.finishedAt >= run.startedAt);

    const stages = await stageRows(runId);
    const build = stages.get('build')!;
    assert.equal(build.status, 'succeeded');
    assert.equal(build.attempt, 1);
    assert.equal(build.exitCode, 0);
    assert.equal(build.executor, 'local');
    assert.equal(build.reason, null);
    assert.ok(build.startedAt && build.finishedAt);
    assert.ok(build.handleId, 'the executor handle (pgid) is recorded');
    assert.equal(stages.get('test')!.status, 'succeeded');
    assert.equal(stages.get('release-only')!.status, 'skipped');
    assert.match(stages.get('release-only')!.reason ?? '', /branch/);

    const log = await storedLog(db.prisma, stageRunIds.get('build')!);
    assertContiguous(log.chunks);
    assert.deepEqual(
      log.lines.filter((l) => l !== 'warning'),
      ['one', 'two', 'three'],
    );
    assert.ok(log.lines.includes('warning'));
    const streams = log.chunks.flatMap((chunk) => chunkLines(chunk));
    assert.deepEqual(
      streams.find((l) => l.line === 'warning'),
      { stream: 'stderr', line: 'warning' },
    );
    assert.deepEqual(
      streams.find((l) => l.line === 'one'),
      { stream: 'stdout', line: 'one' },
    );
    assert.equal((await storedLog(db.prisma, stageRunIds.get('test')!)).text, 'test-ok\n');

    const types = publisher.published.map((p) => p.event.type);
    assert.equal(types[0], 'run.started');
    assert.equal(types.at(-1), 'run.finished');
    assert.ok(!types.includes('stage.log' as never), 'lines are published as chunks only');
    assertWrittenBeforePublished(publisher);
    assertLogsBeforeFinish(publisher);
    // Live chunks carry the same lines as the database.
    const live = publisher.ofType('stage.log_chunk').filter((e) => e.stage === 'build');
    assert.deepEqual(
      live.map((e) => e.seq),
      log.chunks.map((c) => c.seq),
    );
    assert.deepEqual(
      live.flatMap((e) => e.lines.map((l) => l.line)),
      log.lines,
    );
  });

  test('a failing stage skips its dependents; retries are counted; the run fails', async () => {
    const kdl = `pipeline "bad" { on "manual"; }
stage "bad" {
    executor "local"
    retry 1
    run "echo attempt $BUILDIT_ATTEMPT; exit 3"
}
stage "after" needs="bad" {
    executor "local"
    run "echo never"
}
stage "independent" {
    executor "local"
    run "echo fine"
}
`;
    const { runId, stageRunIds } = await triggerPipeline(db.prisma, seeded, kdl);
    const publisher = new RecordingPublisher(db.prisma);
    await runPipelineJob(runJob(runId), neverAborted, deps(publisher));
    assert.equal((await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId } })).status, 'failed');
    const stages = await stageRows(runId);
    assert.deepEqual(
      { status: stages.get('bad')!.status, attempt: stages.get('bad')!.attempt, exitCode: stages.get('bad')!.exitCode, reason: stages.get('bad')!.reason },
      { status: 'failed', attempt: 2, exitCode: 3, reason: 'exit code 3' },
    );
    assert.equal(stages.get('after')!.status, 'skipped');
    assert.equal(stages.get('after')!.reason, 'needs "bad" failed');
    assert.equal(stages.get('after')!.startedAt, null);
    assert.equal(stages.get('independent')!.status, 'succeeded');

    const log = await storedLog(db.prisma, stageRunIds.get('bad')!);
    assertContiguous(log.chunks);
    assert.deepEqual(log.lines, ['attempt 1', 'attempt 1 of 2 failed (exit code 3); retrying', 'attempt 2']);
    // A chunk never spans two attempts.
    assert.deepEqual(
      log.chunks.map((c) => c.attempt),
      log.chunks.map((c) => (c.text.includes('attempt 2') ? 2 : 1)),
    );
    assertWrittenBeforePublished(publisher);
    assertLogsBeforeFinish(publisher);
    assert.deepEqual(
      publisher
        .ofType('stage.started')
        .filter((e) => e.stage === 'bad')
        .map((e) => e.attempt),
      [1, 2],
    );
  });

  test('1,500 lines are batched into a few chunks, every line exactly once', async () => {
    const kdl = `pipeline "many" { on "manual"; }
stage "many" {
    executor "local"
    run "i=1; while [ $i -le 1500 ]; do echo line-$i; i=$((i+1)); done"
}
`;
    const { runId, stageRunIds } = await triggerPipeline(db.prisma, seeded, kdl);
    const publisher = new RecordingPublisher(db.prisma);
    await runPipelineJob(runJob(runId), neverAborted, deps(publisher));
    const log = await storedLog(db.prisma, stageRunIds.get('many')!);
    assert.deepEqual(
      log.lines,
      Array.from({ length: 1500 }, (_, i) => `line-${i + 1}`),
    );
    assertContiguous(log.chunks);
    assert.ok(log.chunks.length <= 10, `${log.chunks.length} chunks for 1,500 lines`);
    assert.equal(publisher.ofType('stage.log_chunk').length, log.chunks.length);

    // The logs endpoint's service reads what the worker wrote, page by page, as raw text.
    const stageRunId = stageRunIds.get('many')!;
    let text = '';
    let after: number | undefined;
    for (;;) {
      const page = await readStageLogs(db.prisma, seeded.actor, runId, stageRunId, { limit: 2, format: 'text', ...(after === undefined ? {} : { after }) });
      text += page.chunks.map((chunk) => chunk.text).join('');
      after = page.next ?? undefined;
      if (page.complete) break;
    }
    assert.equal(text, log.text);
  });

  test('the handler fits the job registry (JobHandler)', () => {
    const handler: JobHandler = createRunPipelineHandler(deps(new RecordingPublisher(db.prisma)));
    assert.equal(typeof handler, 'function');
  });

  test('64 KiB chunks: a big log is cut at the size limit', async () => {
    const kdl = `pipeline "big" { on "manual"; }
stage "big" {
    executor "local"
    run "i=1; while [ $i -le 3000 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done"
}
`;
    const { runId, stageRunIds } = await triggerPipeline(db.prisma, seeded, kdl);
    await runPipelineJob(runJob(runId), neverAborted, deps(new RecordingPublisher(db.prisma), { sink: { flushIntervalMs: 60_000 } }));
    const log = await storedLog(db.prisma, stageRunIds.get('big')!);
    assert.equal(log.lines.length, 3000);
    assert.ok(log.chunks.length >= 5, `${log.chunks.length} chunks for ${log.text.length} bytes`);
    for (const chunk of log.chunks) assert.ok(Buffer.byteLength(chunk.text) <= 64 * 1024, `chunk ${chunk.seq}: ${chunk.text.length} bytes`);
  });

  test('log cap: the head and the tail are kept, with a marker saying what was dropped', async () => {
    const kdl = `pipeline "capped" { on "manual"; }
stage "noisy" {
    executor "local"
    run "i=1; while [ $i -le 2000 ]; do echo line-$i; i=$((i+1)); done; echo 'FATAL: the real error'; exit 1"
}
`;
    const { runId, stageRunIds } = await triggerPipeline(db.prisma, seeded, kdl);
    const publisher = new RecordingPublisher(db.prisma);
    await runPipelineJob(runJob(runId), neverAborted, deps(publisher, { sink: { logCapBytes: 4096, logTailBytes: 1024 } }));
    const log = await storedLog(db.prisma, stageRunIds.get('noisy')!);
    assertContiguous(log.chunks);
    assert.ok(Buffer.byteLength(log.text) <= 4096 + 500, `stored ${Buffer.byteLength(log.text)} bytes`);
    assert.equal(log.lines[0], 'line-1', 'the head is kept');
    assert.equal(log.lines.at(-1), 'FATAL: the real error', 'the final error is never lost');
    // Live viewers are told when output starts being held back.
    const noticeIndex = log.lines.findIndex((l) => l.startsWith('[buildit] the log reached 3 KiB of its 4 KiB cap'));
    assert.ok(noticeIndex > 0, 'a notice when the head is full');
    const markerIndex = log.lines.findIndex((l) => l.includes(' dropped: '));
    assert.equal(markerIndex, noticeIndex + 1, 'the marker follows the head (and the notice)');
    const marker = log.lines[markerIndex]!;
    assert.match(marker, /^\[buildit\] (\d+) lines \(([\d.]+ (B|KiB))\) dropped: the log exceeded the 4 KiB cap/);
    const dropped = Number(/\] (\d+) lines/.exec(marker)![1]);
    const head = log.lines.slice(0, noticeIndex);
    const tail = log.lines.slice(markerIndex + 1);
    // head + dropped + tail = everything printed, in order, nothing duplicated.
    assert.equal(head.length + dropped + tail.length, 2001);
    assert.equal(head.at(-1), `line-${head.length}`);
    assert.equal(tail[0], `line-${head.length + dropped + 1}`);
    const stage = (await stageRows(runId)).get('noisy')!;
    assert.equal(stage.status, 'failed');
    assert.equal(stage.exitCode, 1);
    assertWrittenBeforePublished(publisher);
    // The notice was published live, before the stage ended.
    const chunkEvents = publisher.published.map((p) => p.event);
    const noticeAt = chunkEvents.findIndex((e) => e.type === 'stage.log_chunk' && e.lines.some((l) => l.line.startsWith('[buildit] the log reached')));
    const finishedAt = chunkEvents.findIndex((e) => e.type === 'stage.finished');
    assert.ok(noticeAt >= 0 && noticeAt < finishedAt);
  });

  test('a run already cancelled (or finished) is left alone', async () => {
    const kdl = `pipeline "c" { on "manual"; }
stage "s" {
    executor "local"
    run "echo never"
}
`;
    const { runId } = await triggerPipeline(db.prisma, seeded, kdl);
    await cancelRun(db.prisma, seeded.actor, runId, null);
    const publisher = new RecordingPublisher(db.prisma);
    const outcome = await runPipelineJob(runJob(runId), neverAborted, deps(publisher));
    assert.deepEqual(outcome, { kind: 'nothing_to_do', reason: 'the run is cancelled' });
    assert.equal(publisher.published.length, 0);
    assert.equal((await stageRows(runId)).get('s')!.status, 'cancelled');
  });

  test('approval: a stage waits (stored, published) for a decision in the database, across a worker restart; denied skips it with who denied it', async () => {
    const kdl = `pipeline "gated" { on "manual"; }
stage "build" {
    executor "local"
    run "echo built"
}
stage "deploy" needs="build" {
    executor "local"
    approval
    run "echo deployed"
}
stage "smoke" needs="deploy" {
    executor "local"
    run "echo smoke"
}
stage "prod" needs="build" {
    executor "local"
    approval
    run "echo never"
}
`;
    const { runId, stageRunIds } = await triggerPipeline(db.prisma, seeded, kdl);
    const waiting = (publisher: RecordingPublisher, stage: string) =>
      new Promise<void>((resolve) =>
        publisher.onEvent((event) => {
          if (event.type === 'stage.waiting_approval' && event.stage === stage) resolve();
        }),
      );
    const decide = (stage: string, approved: boolean) =>
      db.prisma.$transaction((tx) => decideApproval(tx, stageRunIds.get(stage)!, approved, seeded.actor.userId));

    // The first worker stops while both stages wait: nothing is decided yet.
    const first = new RecordingPublisher(db.prisma);
    const stop = new AbortController();
    const bothWaiting = Promise.all([waiting(first, 'deploy'), waiting(first, 'prod')]);
    const firstJob = runPipelineJob(runJob(runId), { signal: stop.signal }, deps(first, { approvalPollMs: 50 }));
    await bothWaiting;
    assertWrittenBeforePublished(first);
    stop.abort(new Error('worker shutting down'));
    await assert.rejects(firstJob, /stopped supervising/);
    assert.equal((await stageRows(runId)).get('deploy')!.status, 'waiting_approval');

    // Approved while no worker had the run; the next worker waits again for the other one, which is denied.
    assert.deepEqual(await decide('deploy', true), { kind: 'decided' });
    const second = new RecordingPublisher(db.prisma);
    const prodWaiting = waiting(second, 'prod');
    const secondJob = runPipelineJob(runJob(runId, 2), neverAborted, deps(second, { approvalPollMs: 50 }));
    await prodWaiting;
    assert.deepEqual(await decide('prod', false), { kind: 'decided' });
    const outcome = await secondJob;
    assert.equal(outcome.kind === 'ran' && outcome.result.status, 'succeeded');

    const stages = await stageRows(runId);
    assert.equal(stages.get('deploy')!.status, 'succeeded');
    assert.equal(stages.get('smoke')!.status, 'succeeded');
    assert.equal(stages.get('prod')!.status, 'skipped');
    assert.match(stages.get('prod')!.reason ?? '', /^approval denied by /);
    assert.equal((await decide('prod', true)).kind, 'not_waiting', 'a stage that stopped waiting takes no decision');
    assertWrittenBeforePublished(second);
  });

  test('a local stage running when its worker stopped fails `lost` on the next worker, and is not run twice', async () => {
    const kdl = `pipeline "lost" { on "manual"; }
stage "slow" {
    executor "local"
    retry 2
    run "echo started; sleep 30; echo never"
}
stage "after" needs="slow" {
    executor "local"
    run "echo never"
}
`;
    const { runId, stageRunIds } = await triggerPipeline(db.prisma, seeded, kdl);
    const first = new RecordingPublisher(db.prisma);
    const stop = new AbortController();
    first.onEvent((event) => {
      if (event.type === 'stage.log_chunk' && event.stage === 'slow') stop.abort(new Error('worker shutting down'));
    });
    await assert.rejects(runPipelineJob(runJob(runId), { signal: stop.signal }, deps(first)), /stopped supervising/);
    assert.equal((await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId } })).status, 'running');

    const second = new RecordingPublisher(db.prisma);
    const outcome = await runPipelineJob(runJob(runId, 2), neverAborted, deps(second));
    assert.equal(outcome.kind === 'ran' && outcome.resumed, true);
    const stages = await stageRows(runId);
    assert.equal(stages.get('slow')!.status, 'failed');
    assert.equal(stages.get('slow')!.attempt, 1, 'not retried: the local process may still have been running');
    assert.match(stages.get('slow')!.reason ?? '', /^lost: /);
    assert.equal(stages.get('after')!.status, 'skipped');
    const log = await storedLog(db.prisma, stageRunIds.get('slow')!);
    assert.equal(log.lines[0], 'started');
    assert.match(log.lines.at(-1)!, /^lost: /);
    assertContiguous(log.chunks);
  });
});

describe('runPipelineJob on docker', () => {
  test('container stages: labels, handle id, logs and exit codes', async (t) => {
    if (!(await dockerOrSkip(t))) return;
    const kdl = `pipeline "docker" { on "manual"; }
stage "hello" {
    image "${IMAGE}"
    run "echo in-container; echo run=$BUILDIT_RUN_ID; sleep 1"
}
stage "fails" needs="hello" {
    image "${IMAGE}"
    executor "docker"
    run "echo bye; exit 7"
}
stage "host" needs="hello" {
    executor "local"
    run "echo on-host"
}
`;
    const { runId, stageRunIds } = await triggerPipeline(db.prisma, seeded, kdl);
    const publisher = new RecordingPublisher(db.prisma);
    const labelsSeen: Array<Record<string, string>> = [];
    publisher.onEvent(async (event) => {
      if (event.type === 'stage.log_chunk' && event.stage === 'hello') {
        // The sink awaits the publish, so the container is still there.
        const found = await findContainersByLabel(docker, { 'buildit.run': runId, 'buildit.stage': 'hello' });
        labelsSeen.push(...found.map((c) => c.labels));
      }
    });
    await runPipelineJob(runJob(runId), neverAborted, deps(publisher));
    const stages = await stageRows(runId);
    assert.equal(stages.get('hello')!.status, 'succeeded');
    assert.equal(stages.get('hello')!.executor, 'docker');
    assert.match(stages.get('hello')!.handleId ?? '', /^[0-9a-f]{64}$/, 'the container id is recorded');
    assert.deepEqual((await storedLog(db.prisma, stageRunIds.get('hello')!)).lines, ['in-container', `run=${runId}`]);
    assert.deepEqual({ status: stages.get('fails')!.status, exitCode: stages.get('fails')!.exitCode }, { status: 'failed', exitCode: 7 });
    assert.equal(stages.get('host')!.executor, 'local');
    assert.equal(stages.get('host')!.status, 'succeeded');
    assert.equal((await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId } })).status, 'failed');
    assert.equal(labelsSeen.length, 1);
    assert.equal(labelsSeen[0]!['buildit.run'], runId);
    assert.equal(labelsSeen[0]!['buildit.stage'], 'hello');
    assert.equal(labelsSeen[0]!['buildit.attempt'], '1');
    assert.equal(labelsSeen[0]!['buildit.origin'], 'server');
    assert.deepEqual(await findContainersByLabel(docker, { 'buildit.run': runId }), [], 'no container is left');
    assertWrittenBeforePublished(publisher);
  });

  test('cancel through cancelRequestedAt stops a running container stage and leaves no container', async (t) => {
    if (!(await dockerOrSkip(t))) return;
    const kdl = `pipeline "cancel" { on "manual"; }
stage "long" {
    image "${IMAGE}"
    run "echo waiting; sleep 60; echo never"
}
stage "after" needs="long" {
    image "${IMAGE}"
    run "echo never"
}
`;
    const { runId, stageRunIds } = await triggerPipeline(db.prisma, seeded, kdl);
    const publisher = new RecordingPublisher(db.prisma);
    let requested = 0;
    publisher.onEvent((event) => {
      if (event.type === 'stage.log_chunk' && event.stage === 'long' && requested === 0) {
        requested = Date.now();
        void cancelRun(db.prisma, seeded.actor, runId, null);
      }
    });
    const started = Date.now();
    await runPipelineJob(runJob(runId), neverAborted, deps(publisher));
    t.diagnostic(`cancelled ${Date.now() - requested} ms after the request`);
    assert.ok(requested > 0);
    assert.ok(Date.now() - started < 20_000);
    const run = await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId } });
    assert.equal(run.status, 'cancelled');
    assert.ok(run.finishedAt);
    const stages = await stageRows(runId);
    assert.equal(stages.get('long')!.status, 'cancelled');
    assert.equal(stages.get('after')!.status, 'cancelled');
    // (busybox sh may add "Terminated" when its sleep gets SIGTERM: that is the stage's own output.)
    const lines = (await storedLog(db.prisma, stageRunIds.get('long')!)).lines;
    assert.equal(lines[0], 'waiting');
    assert.ok(!lines.includes('never'));
    assert.deepEqual(
      lines.filter((l) => l !== 'waiting' && l !== 'Terminated'),
      [],
    );
    assert.deepEqual(await findContainersByLabel(docker, { 'buildit.run': runId }), [], 'no container is left');
  });

  test('recovery: a stage still running when its worker stopped is re-attached; every line exactly once', async (t) => {
    if (!(await dockerOrSkip(t))) return;
    const kdl = `pipeline "recover" { on "manual"; }
stage "slow" {
    image "${IMAGE}"
    run "i=1; while [ $i -le 8 ]; do echo line-$i; sleep 0.3; i=$((i+1)); done"
}
stage "after" needs="slow" {
    image "${IMAGE}"
    run "echo after"
}
`;
    const { runId, stageRunIds } = await triggerPipeline(db.prisma, seeded, kdl);
    try {
      const first = new RecordingPublisher(db.prisma);
      const stop = new AbortController();
      first.onEvent((event) => {
        if (event.type === 'stage.log_chunk' && event.lines.some((l) => l.line === 'line-2')) stop.abort(new Error('worker shutting down'));
      });
      await assert.rejects(runPipelineJob(runJob(runId), { signal: stop.signal }, deps(first)), /stopped supervising/);
      const running = await findContainersByLabel(docker, { 'buildit.run': runId, 'buildit.stage': 'slow' });
      assert.equal(running.length, 1, 'the container survives its worker');
      assert.equal((await stageRows(runId)).get('slow')!.status, 'running');

      const second = new RecordingPublisher(db.prisma);
      const outcome = await runPipelineJob(runJob(runId, 2), neverAborted, deps(second));
      assert.equal(outcome.kind === 'ran' && outcome.resumed, true);
      const stages = await stageRows(runId);
      assert.deepEqual(
        { status: stages.get('slow')!.status, attempt: stages.get('slow')!.attempt, exitCode: stages.get('slow')!.exitCode },
        { status: 'succeeded', attempt: 1, exitCode: 0 },
      );
      assert.equal(stages.get('after')!.status, 'succeeded');
      const log = await storedLog(db.prisma, stageRunIds.get('slow')!);
      assert.deepEqual(
        log.lines,
        Array.from({ length: 8 }, (_, i) => `line-${i + 1}`),
      );
      assertContiguous(log.chunks);
      assert.equal(second.ofType('stage.started').filter((e) => e.stage === 'slow').length, 0, 'the resumed stage is not started again');
      assert.equal((await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId } })).status, 'succeeded');
      assert.deepEqual(await findContainersByLabel(docker, { 'buildit.run': runId }), []);
    } finally {
      await removeContainersByLabel(docker, { 'buildit.run': runId });
    }
  });

  test('recovery: the workspace outlives a worker that let go of the run (a host stage of the run too), for the containers still using it', async (t) => {
    if (!(await dockerOrSkip(t))) return;
    const kdl = `pipeline "shared" { on "manual"; }
stage "slow" {
    image "${IMAGE}"
    run "echo started; sleep 1; echo made-in-the-container > marker.txt"
}
stage "host" {
    executor "local"
    run "echo on the host"
}
stage "after" needs="slow" {
    image "${IMAGE}"
    run "cat marker.txt"
}
`;
    const { runId, stageRunIds } = await triggerPipeline(db.prisma, seeded, kdl);
    try {
      const stop = new AbortController();
      const first = new RecordingPublisher(db.prisma);
      first.onEvent((event) => {
        if (event.type === 'stage.log_chunk' && event.lines.some((l) => l.line === 'started')) stop.abort(new Error('worker shutting down'));
      });
      await assert.rejects(runPipelineJob(runJob(runId), { signal: stop.signal }, deps(first)), /stopped supervising/);
      const second = await runPipelineJob(runJob(runId, 2), neverAborted, deps(new RecordingPublisher(db.prisma)));
      assert.equal(second.kind === 'ran' && second.resumed, true);
      const stages = await stageRows(runId);
      assert.equal(stages.get('after')!.status, 'succeeded', stages.get('after')!.reason ?? '');
      assert.deepEqual((await storedLog(db.prisma, stageRunIds.get('after')!)).lines, ['made-in-the-container']);
    } finally {
      await removeContainersByLabel(docker, { 'buildit.run': runId });
    }
  });

  test('recovery: a run cancelled while no worker had it is cancelled on take-over, and its container removed', async (t) => {
    if (!(await dockerOrSkip(t))) return;
    const kdl = `pipeline "recover-cancel" { on "manual"; }
stage "long" {
    image "${IMAGE}"
    run "echo waiting; sleep 60"
}
`;
    const { runId } = await triggerPipeline(db.prisma, seeded, kdl);
    try {
      const first = new RecordingPublisher(db.prisma);
      const stop = new AbortController();
      first.onEvent((event) => {
        if (event.type === 'stage.log_chunk') stop.abort(new Error('worker shutting down'));
      });
      await assert.rejects(runPipelineJob(runJob(runId), { signal: stop.signal }, deps(first)), /stopped supervising/);
      await cancelRun(db.prisma, seeded.actor, runId, null);
      const started = Date.now();
      await runPipelineJob(runJob(runId, 2), neverAborted, deps(new RecordingPublisher(db.prisma)));
      assert.ok(Date.now() - started < 15_000);
      assert.equal((await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId } })).status, 'cancelled');
      assert.equal((await stageRows(runId)).get('long')!.status, 'cancelled');
      assert.deepEqual(await findContainersByLabel(docker, { 'buildit.run': runId }), [], 'no container is left');
    } finally {
      await removeContainersByLabel(docker, { 'buildit.run': runId });
    }
  });

  test('recovery: a container that exited meanwhile gives its exit code and the missing log tail', async (t) => {
    if (!(await dockerOrSkip(t))) return;
    const kdl = `pipeline "recover-exited" { on "manual"; }
stage "quick" {
    image "${IMAGE}"
    run "echo first; sleep 1; echo second; echo third; exit 4"
}
`;
    const { runId, stageRunIds } = await triggerPipeline(db.prisma, seeded, kdl);
    try {
      const first = new RecordingPublisher(db.prisma);
      const stop = new AbortController();
      first.onEvent((event) => {
        if (event.type === 'stage.log_chunk') stop.abort(new Error('worker shutting down'));
      });
      await assert.rejects(runPipelineJob(runJob(runId), { signal: stop.signal }, deps(first)), /stopped supervising/);
      const [container] = await findContainersByLabel(docker, { 'buildit.run': runId, 'buildit.stage': 'quick' });
      assert.ok(container);
      await docker.getContainer(container.id).wait();

      await runPipelineJob(runJob(runId, 2), neverAborted, deps(new RecordingPublisher(db.prisma)));
      const stage = (await stageRows(runId)).get('quick')!;
      assert.deepEqual({ status: stage.status, exitCode: stage.exitCode }, { status: 'failed', exitCode: 4 });
      assert.deepEqual((await storedLog(db.prisma, stageRunIds.get('quick')!)).lines, ['first', 'second', 'third']);
    } finally {
      await removeContainersByLabel(docker, { 'buildit.run': runId });
    }
  });

  test('recovery: a container that is gone fails the attempt `lost`, and a stage with retry runs again', async (t) => {
    if (!(await dockerOrSkip(t))) return;
    const kdl = `pipeline "recover-gone" { on "manual"; }
stage "flaky" {
    image "${IMAGE}"
    retry 1
    run "echo attempt-$BUILDIT_ATTEMPT; [ $BUILDIT_ATTEMPT = 2 ] || sleep 30"
}
`;
    const { runId, stageRunIds } = await triggerPipeline(db.prisma, seeded, kdl);
    try {
      const first = new RecordingPublisher(db.prisma);
      const stop = new AbortController();
      first.onEvent((event) => {
        if (event.type === 'stage.log_chunk') stop.abort(new Error('worker shutting down'));
      });
      await assert.rejects(runPipelineJob(runJob(runId), { signal: stop.signal }, deps(first)), /stopped supervising/);
      assert.equal(await removeContainersByLabel(docker, { 'buildit.run': runId }), 1);

      await runPipelineJob(runJob(runId, 2), neverAborted, deps(new RecordingPublisher(db.prisma)));
      const stage = (await stageRows(runId)).get('flaky')!;
      assert.deepEqual({ status: stage.status, attempt: stage.attempt, exitCode: stage.exitCode }, { status: 'succeeded', attempt: 2, exitCode: 0 });
      const log = await storedLog(db.prisma, stageRunIds.get('flaky')!);
      assert.equal(log.lines[0], 'attempt-1');
      assert.match(log.lines[1]!, /^lost: /);
      assert.equal(log.lines.at(-1), 'attempt-2');
      assertContiguous(log.chunks);
    } finally {
      await removeContainersByLabel(docker, { 'buildit.run': runId });
    }
  });
});
