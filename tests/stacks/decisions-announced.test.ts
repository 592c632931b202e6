/**
 * A decision on a stack run made through the API (approve, discard, cancel) is announced to the run's other
 * viewers as a `stack_run.event`, relayed to the web servers by a PostgreSQL NOTIFY sent in the decision's
 * transaction: each decision sends one event with the new status, a refused decision (409) sends none, and a
 * cancel of a running run announces the request.
 * (tests/web/stacks.test.ts follows the event to a second browser.)
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type pg from 'pg';
import { RELAY_STACK_RUN_EVENT, type StackRunEvent } from '../../lib/realtime/protocol';
import { useApiWorld } from '../api/helpers';
import { api } from './support';

/** The stack run events NOTIFYed to the web servers (the emitter's channel of namespace `/`), as [tenantId, event]. */
const heard: Array<[string, StackRunEvent]> = [];
let listener: pg.PoolClient | undefined;
// Registered before useApiWorld's teardown (after hooks run in order): the database is dropped once nobody listens.
after(() => listener?.release());

const world = useApiWorld(async ({ database }) => {
  listener = await database.pool.connect();
  listener.on('notification', (message) => {
    const packet = (JSON.parse(message.payload ?? '{}') as { data?: { packet?: unknown[] } }).data?.packet;
    if (packet?.[0] === RELAY_STACK_RUN_EVENT) heard.push([packet[1] as string, packet[2] as StackRunEvent]);
  });
  await listener.query('LISTEN "socket.io#/"');
});
const admin = () => world.world.adminA.token;

async function plannedRun(status: 'planned' | 'queued' | 'planning' = 'planned'): Promise<{ stackId: string; runId: string }> {
  const slug = `decided-${heard.length}-${Date.now()}`;
  const { prisma } = world.database;
  const stack = await prisma.stack.create({ data: { tenantId: world.world.tenantA, name: slug, slug, repository: 'https://git.example.test/infra.git' } });
  // A planned run as if the worker had stored its plan (an approval waits for that).
  const planKeyId = status === 'planned' ? 'stored' : null;
  const run = await prisma.stackRun.create({ data: { stackId: stack.id, number: 1, kind: 'apply', event: 'api', status, planStateVersion: 0, planKeyId } });
  return { stackId: stack.id, runId: run.id };
}

/** The events heard for `runId`, once `count` of them arrived (a NOTIFY arrives after its commit). */
async function eventsOf(runId: string, count: number): Promise<StackRunEvent[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const events = heard.filter(([, event]) => event.stackRunId === runId);
    if (events.length >= count || Date.now() > deadline) {
      for (const [tenantId] of events) assert.equal(tenantId, world.world.tenantA, 'the event goes to the run tenant');
      return events.map(([, event]) => event);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

for (const [decision, from, status] of [
  ['approve', 'planned', 'approved'],
  ['discard', 'planned', 'discarded'],
  ['cancel', 'queued', 'cancelled'],
] as const) {
  test(`${decision} announces the run as ${status}; a second ${decision} is refused and announces nothing`, async () => {
    const { stackId, runId } = await plannedRun(from);
    const answer = await api('POST', `/api/v1/stack-runs/{stackRunId}/${decision}`, admin(), { stackRunId: runId });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(await eventsOf(runId, 1), [
      { stackRunId: runId, stackId, status, lastSeq: 0, cancelRequested: decision === 'cancel', planStored: from === 'planned' },
    ]);

    const again = await api('POST', `/api/v1/stack-runs/{stackRunId}/${decision}`, admin(), { stackRunId: runId });
    assert.equal(again.status, 409, again.text);
    // NOTIFYs reach a listener in commit order: once a later decision's event is here, a wrongly sent one would be too.
    const fence = await plannedRun();
    await api('POST', '/api/v1/stack-runs/{stackRunId}/approve', admin(), { stackRunId: fence.runId });
    assert.equal((await eventsOf(fence.runId, 1)).length, 1);
    assert.equal(heard.filter(([, event]) => event.stackRunId === runId).length, 1, 'the refused decision announced nothing');
  });
}

test('a cancel of a planning run announces the request (the worker announces the end once terraform stopped)', async () => {
  const { stackId, runId } = await plannedRun('planning');
  const answer = await api('POST', '/api/v1/stack-runs/{stackRunId}/cancel', admin(), { stackRunId: runId });
  assert.equal(answer.status, 200, answer.text);
  assert.deepEqual(await eventsOf(runId, 1), [{ stackRunId: runId, stackId, status: 'planning', lastSeq: 0, cancelRequested: true, planStored: false }]);
});
