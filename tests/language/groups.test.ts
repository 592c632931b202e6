/**
 * Concurrency groups through the server: runs triggered by the API's service, executed by the worker's run
 * handler under the real job queue (lib/queue/runner.ts, real PostgreSQL, real Docker engine), ordered and
 * cancelled by their group. A run waiting for its group is not claimed: it shows `waitingFor` and takes no slot.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { getRun, triggerRun } from '../../lib/api/services/runs';
import { sleep } from '../../lib/async';
import { dockerOrSkip } from '../support/engines';
import { exampleText } from '../support/language-runs';
import { push, QueueWorld } from './queue-support';

let world: QueueWorld;

before(async () => {
  world = await QueueWorld.create('groups');
});

after(() => world?.drop());

async function until<T>(what: string, check: () => Promise<T | null | undefined | false>): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const value = await check();
    if (value) return value;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const stageRunning = (runId: string) => until(`a stage of run ${runId} to run`, () => world.db.prisma.stageRun.count({ where: { runId, status: 'running' } }));
const finished = (runIds: string[]) =>
  until(
    'the runs to finish',
    async () => (await world.db.prisma.pipelineRun.count({ where: { id: { in: runIds }, finishedAt: { not: null } } })) === runIds.length,
  );

/** The first push's deploy is long, the others quick. */
async function deployPipeline(slug: string, cancelInProgress: boolean, seconds = 4): Promise<string> {
  const kdl = (await exampleText('groups'))
    .replace('sleep 5', `test \${git.short_sha} != 1111111 || sleep ${seconds}`)
    .replace(' cancel-in-progress=#true', cancelInProgress ? ' cancel-in-progress=#true' : '');
  return world.pipelineWith(slug, kdl);
}

async function runsOf(pipelineId: string) {
  return world.db.prisma.pipelineRun.findMany({ where: { pipelineId }, include: { stages: true }, orderBy: { number: 'asc' } });
}

test('two quick pushes to one group with cancel-in-progress: the first is cancelled, the second succeeds after it', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  await world.worker(t, 'groups-cancel', 2);
  const pipelineId = await deployPipeline('cancelling', true);
  const first = await triggerRun(world.db.prisma, world.seeded.actor, pipelineId, push('1111111'), null);
  await stageRunning(first.id);
  const second = await triggerRun(world.db.prisma, world.seeded.actor, pipelineId, push('2222222'), null);
  await finished([first.id, second.id]);
  const [older, newer] = await runsOf(pipelineId);
  assert.deepEqual([older!.status, newer!.status, older!.concurrencyGroup, newer!.concurrencyGroup], ['cancelled', 'succeeded', 'deploy-main', 'deploy-main']);
  assert.equal(older!.stages[0]!.status, 'cancelled');
  assert.ok(newer!.stages[0]!.startedAt! >= older!.finishedAt!, 'the second run started its stage after the first finished');
});

test('without cancel-in-progress a newer run waits, shown by the API, for the older one, which finishes', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  await world.worker(t, 'groups-wait', 2);
  const pipelineId = await deployPipeline('waiting', false);
  const first = await triggerRun(world.db.prisma, world.seeded.actor, pipelineId, push('1111111'), null);
  await stageRunning(first.id);
  const second = await triggerRun(world.db.prisma, world.seeded.actor, pipelineId, push('2222222'), null);
  const waiting = await until('the API to show the second run waiting', async () => {
    const run = await getRun(world.db.prisma, world.seeded.actor, second.id);
    return run.waitingFor !== null && run;
  });
  assert.equal(waiting.status, 'queued');
  assert.deepEqual(waiting.waitingFor, { group: 'deploy-main', runId: first.id, runNumber: first.number });
  await finished([first.id, second.id]);
  const [older, newer] = await runsOf(pipelineId);
  assert.deepEqual([older!.status, newer!.status], ['succeeded', 'succeeded']);
  assert.ok(newer!.stages[0]!.startedAt! >= older!.stages[0]!.finishedAt!, 'the stages of the group never overlap');
  assert.equal((await getRun(world.db.prisma, world.seeded.actor, second.id)).waitingFor, null);
});

test('with one worker slot, a run waiting for its group does not block an unrelated run', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  // Worker 1 runs the group's long run; worker 2, with ONE slot, then gets the waiting run and an unrelated one.
  await world.worker(t, 'groups-busy', 1);
  const pipelineId = await deployPipeline('one-slot', false, 10);
  const first = await triggerRun(world.db.prisma, world.seeded.actor, pipelineId, push('1111111'), null);
  await stageRunning(first.id);
  const waiting = await triggerRun(world.db.prisma, world.seeded.actor, pipelineId, push('2222222'), null);
  const unrelatedPipeline = await world.pipelineWith('unrelated', (await exampleText('groups')).replace(/\n\s*group .*\n/, '\n').replace('sleep 5', 'true'));
  const unrelated = await triggerRun(world.db.prisma, world.seeded.actor, unrelatedPipeline, push('3333333'), null);
  const single = await world.worker(t, 'groups-one-slot', 1);
  assert.equal(single.concurrency, 1);
  await finished([first.id, waiting.id, unrelated.id]);
  const [older, newer] = await runsOf(pipelineId);
  const [other] = await runsOf(unrelatedPipeline);
  assert.deepEqual([older!.status, newer!.status, other!.status], ['succeeded', 'succeeded', 'succeeded']);
  assert.ok(other!.finishedAt! < older!.finishedAt!, 'the unrelated run ran while the group was busy');
  assert.ok(newer!.stages[0]!.startedAt! >= older!.stages[0]!.finishedAt!, 'the waiting run started after the older one');
  assert.ok(single.stats.deferred >= 1, 'the waiting run was deferred, not held');
});
