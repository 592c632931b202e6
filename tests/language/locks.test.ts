/**
 * Stage locks through the server: runs of two pipelines triggered by the API's service at once, executed
 * by two workers under the real job queue (real PostgreSQL, real Docker engine). The stages that share a
 * lock never hold it at the same time, checked from the stored event times; a waiting stage is shown by
 * the API with the lock and its holder.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { getRun, triggerRun } from '../../lib/api/services/runs';
import { sleep } from '../../lib/async';
import { parseStoredPlan } from '../../lib/runs/stored-plan';
import { dockerOrSkip } from '../support/engines';
import { builditRun, exampleText, scratchDir, stageStatuses } from '../support/language-runs';
import { RecordingPublisher } from '../runs/helpers';
import { push, QueueWorld } from './queue-support';

let world: QueueWorld;

before(async () => {
  world = await QueueWorld.create('locks');
});

after(() => world?.drop());

test('runs of two pipelines never hold one lock at once (event times); a waiting stage shows the lock and its holder', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  const { db, seeded } = world;
  const publisher = new RecordingPublisher(db.prisma);
  for (const id of ['locks-1', 'locks-2']) await world.worker(t, id, 3, publisher);

  const app = await world.pipelineWith('app', (await exampleText('locks')).replace('sleep 5', 'sleep 1'));
  const other = await world.pipelineWith(
    'other',
    `pipeline "other" { on "push"; }
stage "release" {
    image "${(await exampleText('locks')).match(/image "([^"]+)"/)![1]}"
    lock "production"
    run "echo releasing; sleep 1"
}
`,
  );
  const runs = await Promise.all(
    [app, other, app, other].map((pipelineId, i) => triggerRun(db.prisma, seeded.actor, pipelineId, push(`${i + 1}`.repeat(7)), null)),
  );
  const runIds = runs.map((run) => run.id);

  // What the API shows meanwhile: every waitingFor of a stage, as answered.
  const shown: Array<{ runId: string; stage: string; waitingFor: unknown }> = [];
  for (let i = 0; i < 900; i++) {
    const answers = await Promise.all(runIds.map((id) => getRun(db.prisma, seeded.actor, id)));
    for (const run of answers)
      for (const stage of run.stages) if (stage.waitingFor) shown.push({ runId: run.id, stage: stage.stageId, waitingFor: stage.waitingFor });
    if (answers.every((run) => run.finishedAt !== null)) break;
    await sleep(100);
  }
  const finished = await db.prisma.pipelineRun.findMany({ where: { id: { in: runIds } } });
  assert.deepEqual(
    finished.map((run) => run.status),
    runIds.map(() => 'succeeded'),
  );

  // Holders by lock name (from the stored plans), each with its stage.started..stage.finished event times.
  const holders = new Map<string, Array<{ who: string; start: number; end: number }>>();
  for (const run of finished) {
    for (const stage of parseStoredPlan(run.id, run.plan).stages) {
      if (stage.lock === undefined) continue;
      const started = publisher.ofType('stage.started').filter((e) => e.runId === run.id && e.stage === stage.id);
      const ended = publisher.ofType('stage.finished').filter((e) => e.runId === run.id && e.stage === stage.id);
      assert.equal(started.length, 1, `${stage.id} of run #${run.number} started once`);
      const list = holders.get(stage.lock) ?? [];
      list.push({ who: `${stage.id} of run #${run.number}`, start: Date.parse(started[0]!.time), end: Date.parse(ended[0]!.time) });
      holders.set(stage.lock, list);
    }
  }
  assert.deepEqual([...holders.keys()].sort(), ['db-eu-main', 'db-us-main', 'production']);
  assert.equal(holders.get('production')!.length, 4);
  for (const [lock, list] of holders) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 1; i < list.length; i++) {
      const [before, next] = [list[i - 1]!, list[i]!];
      assert.ok(next.start >= before.end, `lock "${lock}": ${next.who} started at ${next.start}, before ${before.who} finished at ${before.end}`);
    }
  }

  // Some stage waited for "production" while another run's stage held it, and said so (event and API).
  const waitedEvents = publisher.ofType('stage.waiting_lock').filter((e) => e.lock === 'production' && e.holder !== null);
  assert.ok(waitedEvents.length >= 1, 'a stage waited for the lock');
  assert.ok(
    waitedEvents.some((e) => e.holder!.runId !== e.runId && runIds.includes(e.holder!.runId)),
    'a waiting stage named a holder in another run',
  );
  const apiWaits = shown.filter((s) => (s.waitingFor as { lock: string }).lock === 'production');
  assert.ok(apiWaits.length >= 1, 'the API showed a stage waiting for "production"');
  for (const wait of apiWaits) {
    const waitingFor = wait.waitingFor as { lock: string; runId: string | null; runNumber?: number; stage?: string };
    if (waitingFor.runId === null) continue; // earlier waiters first, no live holder at that moment
    const holder = finished.find((run) => run.id === waitingFor.runId);
    assert.ok(holder, `the holder ${waitingFor.runId} is one of the runs`);
    assert.equal(waitingFor.runNumber, holder.number);
    assert.ok(waitingFor.stage === 'deploy' || waitingFor.stage === 'release', `the holder's stage holds the lock (${waitingFor.stage})`);
  }
});

test('buildit run: the stages of one run that share a lock run one at a time (event times), the waiter says why', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  // Enough slots for every stage: only the lock keeps deploy and announce apart.
  const example = (await exampleText('locks')).replace('sleep 5', 'sleep 1').replace('on "push"', 'on "push"\n    concurrency 8');
  const image = example.match(/image "([^"]+)"/)![1];
  const text = `${example}
stage "announce" {
    needs "test"
    image "${image}"
    lock "production"
    run "echo announcing; sleep 1"
}
`;
  const dir = await scratchDir(t, { 'buildit.kdl': text });
  const { code, events, stderr } = await builditRun(['--event', 'push'], dir);
  assert.equal(code, 0, stderr);
  assert.deepEqual(stageStatuses(events), {
    test: 'succeeded',
    deploy: 'succeeded',
    'migrate[region=eu]': 'succeeded',
    'migrate[region=us]': 'succeeded',
    announce: 'succeeded',
  });
  const times = (stage: string) =>
    ['stage.started', 'stage.finished'].map((type) => Date.parse(events.find((e) => e.type === type && 'stage' in e && e.stage === stage)!.time));
  const [first, second] = [times('deploy'), times('announce')].sort((a, b) => a[0]! - b[0]!);
  assert.ok(second![0]! >= first![1]!, `the holders of "production" overlap: ${first} and ${second}`);
  const waited = events.filter((e) => e.type === 'stage.waiting_lock');
  assert.equal(waited.length, 1);
  assert.equal(waited[0]!.type === 'stage.waiting_lock' && waited[0]!.lock, 'production');
});
