/**
 * Socket.IO realtime against a real PostgreSQL: handshake authentication, authorized room joins, catch-up
 * from the database without gap or duplicate (also when chunks are published during the catch-up), live
 * events from a worker's publisher (postgres-emitter on its own pool), and resuming after a server restart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { sleep } from '../../lib/async';
import type { ServerRunEvent, StageLogChunkEvent } from '../../lib/events/server-events';
import { createPool } from '../../lib/db/client';
import { followRun } from '../../lib/realtime/client';
import { RUN_EVENT, RUN_SNAPSHOT, SUBSCRIBE, SUBSCRIBE_TENANT, type RunSnapshot, type SubscribeAck, type SimpleAck } from '../../lib/realtime/protocol';
import { createRunEventPublisher } from '../../lib/realtime/publisher';
import { createUserWithToken, seedWorld, type World } from '../api/helpers';
import { seedTenant, triggerPipeline } from '../runs/helpers';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { connect, connected, insertChunk, seedRun, startRealtimeServer, waitFor, type ClientSocket, type RunningServer, type SeededRun } from './support';

let database: TestDatabase;
let world: World;
let server: RunningServer;
/** The worker's side: its own pool, as a worker process has. */
let workerPool: pg.Pool;
const publisher = () => createRunEventPublisher(workerPool);
/** Per-test race hooks (the server's hooks call these when set). */
let afterJoin: (() => Promise<void>) | null = null;
let afterRead: (() => Promise<void>) | null = null;
const sockets: ClientSocket[] = [];

before(async () => {
  database = await createTestDatabase();
  world = await seedWorld(database.prisma);
  workerPool = createPool(database.url, { max: 3, applicationName: 'test-worker' });
  server = await startRealtimeServer(database, {
    hooks: {
      afterJoin: async () => afterJoin?.(),
      afterRead: async () => afterRead?.(),
    },
  });
});

after(async () => {
  for (const socket of sockets) socket.close();
  await server?.stop();
  await workerPool?.end();
  await database?.drop();
});

function client(token: string | undefined, url = server.url): ClientSocket {
  const socket = connect(url, token);
  sockets.push(socket);
  return socket;
}

/** Records what a socket receives. */
function record(socket: ClientSocket) {
  const events: ServerRunEvent[] = [];
  const snapshots: RunSnapshot[] = [];
  socket.on(RUN_EVENT, (event) => events.push(event));
  socket.on(RUN_SNAPSHOT, (snapshot) => snapshots.push(snapshot));
  const seqs = () => events.filter((e): e is StageLogChunkEvent => e.type === 'stage.log_chunk').map((e) => e.seq);
  return { events, snapshots, seqs };
}

function subscribe(socket: ClientSocket, request: { runId: string; after?: Record<string, number> }): Promise<SubscribeAck> {
  return socket.timeout(10_000).emitWithAck(SUBSCRIBE, request);
}

describe('handshake', () => {
  test('a connection without a token is refused with `unauthorized`', async () => {
    const socket = client(undefined);
    const error = (await connected(socket).then(
      () => null,
      (e: unknown) => e,
    )) as (Error & { data?: { code: string; message: string } }) | null;
    assert.ok(error, 'the connection was accepted');
    assert.equal(error.message, 'unauthorized');
    assert.equal(error.data?.code, 'unauthorized');
    assert.match(error.data?.message ?? '', /auth: \{ token/);
  });

  test('a bad token is refused with `unauthorized`, a good one is accepted', async () => {
    const bad = client('bk_' + 'x'.repeat(40));
    await assert.rejects(
      connected(bad),
      (error: Error & { data?: { code: string } }) => error.message === 'unauthorized' && error.data?.code === 'unauthorized',
    );
    const good = client(world.viewerA.token);
    await connected(good);
    assert.ok(good.connected);
  });
});

describe('token revoked while connected', () => {
  test('the socket is disconnected at the next check, and cannot connect again', async () => {
    const checking = await startRealtimeServer(database, { reauthenticateMs: 150 });
    try {
      const user = await createUserWithToken(database.prisma, { organizationId: world.orgId, tenantRoles: { [world.tenantA]: 'viewer' } });
      const socket = client(user.token, checking.url);
      await connected(socket);
      const reason = new Promise<string>((resolve) => socket.once('disconnect', resolve));
      await sleep(400);
      assert.ok(socket.connected, 'a valid token stays connected across checks');
      await database.prisma.apiKey.update({ where: { id: user.apiKeyId }, data: { revokedAt: new Date() } });
      assert.equal(await reason, 'io server disconnect');
      const again = client(user.token, checking.url);
      await assert.rejects(
        connected(again),
        (error: Error & { data?: { message: string } }) => error.message === 'unauthorized' && /revoked/.test(error.data?.message ?? ''),
      );
    } finally {
      await checking.stop();
    }
  });
});

describe('authorization of room joins', () => {
  test("another tenant's run, another organization's run and an unknown id all get `not_found`", async () => {
    const run = await seedRun(database.prisma, world.tenantA);
    const outsider = client(world.outsider.token); // admin of tenant B only
    const stranger = client(world.otherOwner.token); // owner of another organization
    await Promise.all([connected(outsider), connected(stranger)]);
    const got = record(outsider);
    for (const [socket, runId] of [
      [outsider, run.runId],
      [stranger, run.runId],
      [outsider, 'cm0000000000000000000nope'],
    ] as const) {
      const ack = await subscribe(socket, { runId });
      assert.deepEqual(ack, { ok: false, error: { code: 'not_found', message: 'run not found' } });
    }
    // Nothing of the run reaches a refused socket, live either.
    await publisher().publish({ tenantId: run.tenantId, runId: run.runId }, await insertChunk(database, run, 1));
    await sleep(200);
    assert.equal(got.events.length + got.snapshots.length, 0);
  });

  test('tenant rooms: own tenant joins, another tenant is `not_found`, bad input is `bad_request`', async () => {
    const viewer = client(world.viewerA.token);
    await connected(viewer);
    assert.deepEqual(await viewer.emitWithAck(SUBSCRIBE_TENANT, { tenantId: world.tenantA }), { ok: true } satisfies SimpleAck);
    const refused = (await viewer.emitWithAck(SUBSCRIBE_TENANT, { tenantId: world.tenantB })) as SimpleAck;
    assert.equal(refused.ok === false && refused.error.code, 'not_found');
    const other = (await viewer.emitWithAck(SUBSCRIBE_TENANT, { tenantId: world.otherTenant })) as SimpleAck;
    assert.equal(other.ok === false && other.error.code, 'not_found');
    const bad = (await subscribe(viewer, { runId: 42 } as unknown as { runId: string })) as SubscribeAck;
    assert.equal(bad.ok === false && bad.error.code, 'bad_request');
  });

  test('the tenant room gets status events but not log chunks', async () => {
    const run = await seedRun(database.prisma, world.tenantA);
    const viewer = client(world.viewerA.token);
    await connected(viewer);
    const got = record(viewer);
    assert.deepEqual(await viewer.emitWithAck(SUBSCRIBE_TENANT, { tenantId: world.tenantA }), { ok: true });
    const target = { tenantId: run.tenantId, runId: run.runId };
    await publisher().publish(target, await insertChunk(database, run, 1));
    await publisher().publish(target, { type: 'stage.queued', time: new Date().toISOString(), runId: run.runId, stage: 'build' });
    await waitFor(() => got.events.length >= 1, 'the status event');
    await sleep(200);
    assert.deepEqual(
      got.events.map((e) => e.type),
      ['stage.queued'],
    );
  });
});

test('a new run is announced as `run.queued` to its tenant room by the transaction that creates it, with no worker', async () => {
  const seeded = await seedTenant(database.prisma);
  const watcher = await createUserWithToken(database.prisma, { organizationId: seeded.actor.organizationId, tenantRoles: { [seeded.tenantId]: 'viewer' } });
  const socket = client(watcher.token);
  await connected(socket);
  const got = record(socket);
  assert.deepEqual(await socket.emitWithAck(SUBSCRIBE_TENANT, { tenantId: seeded.tenantId }), { ok: true });
  const { runId } = await triggerPipeline(database.prisma, seeded, `pipeline "p" { on "manual"; }\nstage "a" { image "busybox"; run "true"; }\n`);
  await waitFor(() => got.events.some((event) => event.type === 'run.queued'), 'run.queued');
  const run = await database.prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId } });
  assert.deepEqual(got.events, [{ type: 'run.queued', time: run.createdAt.toISOString(), runId, pipelineId: run.pipelineId, number: 1 }]);
});

describe('catch-up and live events', () => {
  test('after=1 with chunks 1..3 stored: gets 2 and 3, then a published chunk 4 once', async () => {
    const run = await seedRun(database.prisma, world.tenantA);
    for (const seq of [1, 2, 3]) await insertChunk(database, run, seq);
    const socket = client(world.viewerA.token);
    await connected(socket);
    const got = record(socket);
    const ack = await subscribe(socket, { runId: run.runId, after: { [run.stageRunId]: 1 } });
    assert.deepEqual(ack, { ok: true, sent: 2, caughtUp: { [run.stageRunId]: 3 } });
    assert.deepEqual(got.seqs(), [2, 3]);
    assert.equal(got.snapshots.length, 1, 'the snapshot comes first');
    assert.equal(got.snapshots[0]!.status, 'running');
    assert.deepEqual(
      got.snapshots[0]!.stages.map((s) => [s.id, s.stage, s.status, s.lastSeq]),
      [[run.stageRunId, 'build', 'running', 3]],
    );
    const two = got.events[0] as StageLogChunkEvent;
    assert.deepEqual(two.lines, [{ stream: 'stdout', line: 'line 2' }]);
    assert.equal(two.stage, 'build');

    const four = await insertChunk(database, run, 4);
    await publisher().publish({ tenantId: run.tenantId, runId: run.runId }, four);
    await waitFor(() => got.seqs().length === 3, 'chunk 4');
    // A large chunk travels through the attachments table (over NOTIFY's 8000 bytes).
    const big = await insertChunk(
      database,
      run,
      5,
      Array.from({ length: 400 }, (_, i) => `line ${i} ${'x'.repeat(60)}`),
    );
    await publisher().publish({ tenantId: run.tenantId, runId: run.runId }, big);
    await waitFor(() => got.seqs().length === 4, 'chunk 5 (attachment)');
    await sleep(300);
    assert.deepEqual(got.seqs(), [2, 3, 4, 5]);
    assert.equal((got.events[3] as StageLogChunkEvent).lines.length, 400);
  });

  test('without `after`, every stored chunk; a status event reaches the run room once', async () => {
    const run = await seedRun(database.prisma, world.tenantA);
    for (const seq of [1, 2]) await insertChunk(database, run, seq);
    const socket = client(world.memberA.token);
    await connected(socket);
    const got = record(socket);
    // In the tenant room too: the status event goes to both rooms in one broadcast, delivered once.
    assert.deepEqual(await socket.emitWithAck(SUBSCRIBE_TENANT, { tenantId: world.tenantA }), { ok: true });
    const ack = await subscribe(socket, { runId: run.runId });
    assert.equal(ack.ok && ack.sent, 2);
    await publisher().publish(
      { tenantId: run.tenantId, runId: run.runId },
      { type: 'run.finished', time: new Date().toISOString(), runId: run.runId, status: 'succeeded', durationMs: 5 },
    );
    await waitFor(() => got.events.length === 3, 'run.finished');
    await sleep(200);
    assert.deepEqual(
      got.events.map((e) => e.type),
      ['stage.log_chunk', 'stage.log_chunk', 'run.finished'],
    );
  });

  test('race: a chunk stored and published while the catch-up runs is delivered once, in every window', async () => {
    const run = await seedRun(database.prisma, world.tenantA);
    const target = { tenantId: run.tenantId, runId: run.runId };
    for (const seq of [1, 2, 3]) await insertChunk(database, run, seq);
    const socket = client(world.viewerA.token);
    await connected(socket);
    const got = record(socket);
    let six: StageLogChunkEvent | undefined;

    // Window 1 (joined, database not read yet): chunk 4 is stored AND its event arrives → held, and
    // the catch-up reads it too → sent once.
    afterJoin = async () => {
      await publisher().publish(target, await insertChunk(database, run, 4));
      await sleep(150); // the NOTIFY of chunk 4 reaches the server while the socket's events are held
    };
    // Window 2 (database read, not flushed yet): chunk 5 stored and published → only in the held events.
    // Chunk 6 stored too but not yet published.
    afterRead = async () => {
      await publisher().publish(target, await insertChunk(database, run, 5));
      six = await insertChunk(database, run, 6);
      await sleep(150);
    };
    let ack: SubscribeAck;
    try {
      ack = await subscribe(socket, { runId: run.runId, after: { [run.stageRunId]: 1 } });
    } finally {
      afterJoin = null;
      afterRead = null;
    }
    assert.deepEqual(ack, { ok: true, sent: 3, caughtUp: { [run.stageRunId]: 4 } });
    await waitFor(() => got.seqs().includes(5), 'chunk 5 (held, then flushed)');
    assert.deepEqual(got.seqs(), [2, 3, 4, 5]);

    // Window 3: chunk 6 was not read by the catch-up (stored after the read): its late event delivers it.
    await publisher().publish(target, six!);
    await waitFor(() => got.seqs().includes(6), 'chunk 6');
    // And an event for a chunk this socket already has (re-published, e.g. a worker retrying) is dropped.
    await publisher().publish(target, (await readChunk(run, 3))!);
    await publisher().publish(target, await insertChunk(database, run, 7));
    await waitFor(() => got.seqs().includes(7), 'chunk 7');
    await sleep(200);
    assert.deepEqual(got.seqs(), [2, 3, 4, 5, 6, 7]);
  });

  test('race: a chunk read by the catch-up whose event arrives after going live is not sent twice', async () => {
    const run = await seedRun(database.prisma, world.tenantA);
    const target = { tenantId: run.tenantId, runId: run.runId };
    await insertChunk(database, run, 1);
    const socket = client(world.viewerA.token);
    await connected(socket);
    const got = record(socket);
    let two: StageLogChunkEvent | undefined;
    // Stored before the read, published only after the subscription went live (INSERT, then NOTIFY, slow).
    afterJoin = async () => {
      two = await insertChunk(database, run, 2);
    };
    try {
      assert.deepEqual(await subscribe(socket, { runId: run.runId }), { ok: true, sent: 2, caughtUp: { [run.stageRunId]: 2 } });
    } finally {
      afterJoin = null;
    }
    await publisher().publish(target, two!);
    await publisher().publish(target, await insertChunk(database, run, 3));
    await waitFor(() => got.seqs().includes(3), 'chunk 3');
    await sleep(200);
    assert.deepEqual(got.seqs(), [1, 2, 3]);
  });

  test('a second subscribe to the same run is refused until unsubscribed', async () => {
    const run = await seedRun(database.prisma, world.tenantA);
    const socket = client(world.viewerA.token);
    await connected(socket);
    assert.equal((await subscribe(socket, { runId: run.runId })).ok, true);
    const again = await subscribe(socket, { runId: run.runId });
    assert.equal(again.ok === false && again.error.code, 'bad_request');
  });
});

async function readChunk(run: SeededRun, seq: number): Promise<StageLogChunkEvent | undefined> {
  const { rows } = await database.pool.query<{ text: string; created_at: Date }>(
    'SELECT text, created_at FROM log_chunks WHERE stage_run_id = $1 AND seq = $2',
    [run.stageRunId, seq],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    type: 'stage.log_chunk',
    time: row.created_at.toISOString(),
    runId: run.runId,
    stage: run.stage,
    stageRunId: run.stageRunId,
    seq,
    firstLine: seq,
    lines: [{ stream: 'stdout', line: row.text.trimEnd() }],
  };
}

describe('server restart', () => {
  test('a client reconnects and, subscribing with its last seq, gets exactly the missed chunks', async () => {
    const second = await startRealtimeServer(database);
    const run = await seedRun(database.prisma, world.tenantA);
    const target = { tenantId: run.tenantId, runId: run.runId };
    for (const seq of [1, 2]) await insertChunk(database, run, seq);

    const socket = connect(second.url, world.viewerA.token, { reconnection: true });
    sockets.push(socket);
    const got = record(socket);
    const lastSeq = new Map<string, number>();
    socket.on(RUN_EVENT, (event) => {
      if (event.type === 'stage.log_chunk') lastSeq.set(event.stageRunId, Math.max(lastSeq.get(event.stageRunId) ?? 0, event.seq));
    });
    const acks: SubscribeAck[] = [];
    // What every client does: (re)subscribe on each connect with what it has.
    socket.on('connect', () => {
      void subscribe(socket, { runId: run.runId, after: Object.fromEntries(lastSeq) }).then((ack) => acks.push(ack));
    });
    await waitFor(() => acks.length === 1 && got.seqs().length === 2, 'the first catch-up');

    const port = second.port;
    await second.stop();
    // While the server is down the worker goes on: stored, published to nobody.
    for (const seq of [3, 4]) await publisher().publish(target, await insertChunk(database, run, seq));
    const restarted = await startRealtimeServer(database, { port });
    try {
      await waitFor(() => acks.length === 2, 'the re-subscription after the restart', 10_000);
      assert.deepEqual(acks[1], { ok: true, sent: 2, caughtUp: { [run.stageRunId]: 4 } });
      await publisher().publish(target, await insertChunk(database, run, 5));
      await waitFor(() => got.seqs().includes(5), 'chunk 5 live');
      await sleep(200);
      assert.deepEqual(got.seqs(), [1, 2, 3, 4, 5]);
    } finally {
      socket.close();
      await restarted.stop();
    }
  });
});

describe('followRun (the CLI client)', () => {
  test('catches up, follows live chunks in order and ends when the run finishes', async () => {
    const run = await seedRun(database.prisma, world.tenantA);
    const target = { tenantId: run.tenantId, runId: run.runId };
    for (const seq of [1, 2]) await insertChunk(database, run, seq);
    const seen: number[] = [];
    const follow = followRun({ url: server.url, token: world.viewerA.token, runId: run.runId, onChunk: (chunk) => seen.push(chunk.seq) });
    await waitFor(() => seen.length === 2, 'catch-up');
    // A large chunk (attachment, fetched asynchronously) followed by a small one: delivered in seq order.
    const three = await insertChunk(
      database,
      run,
      3,
      Array.from({ length: 300 }, (_, i) => `big ${i} ${'y'.repeat(60)}`),
    );
    const four = await insertChunk(database, run, 4);
    await Promise.all([publisher().publish(target, three), publisher().publish(target, four)]);
    await waitFor(() => seen.length === 4, 'chunks 3 and 4');
    // The run finishes; chunk 5 is stored but its event never comes (lost publish): read from the database.
    await insertChunk(database, run, 5);
    await database.prisma.stageRun.update({ where: { id: run.stageRunId }, data: { status: 'succeeded' } });
    await database.prisma.pipelineRun.update({ where: { id: run.runId }, data: { status: 'succeeded', finishedAt: new Date() } });
    await publisher().publish(target, { type: 'run.finished', time: new Date().toISOString(), runId: run.runId, status: 'succeeded', durationMs: 1 });
    const final = await follow.done;
    assert.equal(final.status, 'succeeded');
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  });

  test('events lost entirely (nothing published) are caught up by the idle re-subscription', async () => {
    const run = await seedRun(database.prisma, world.tenantA);
    await insertChunk(database, run, 1);
    const seen: number[] = [];
    const follow = followRun({ url: server.url, token: world.viewerA.token, runId: run.runId, idleResyncMs: 300, onChunk: (chunk) => seen.push(chunk.seq) });
    await waitFor(() => seen.length === 1, 'catch-up');
    await insertChunk(database, run, 2);
    await database.prisma.pipelineRun.update({ where: { id: run.runId }, data: { status: 'failed', finishedAt: new Date() } });
    const final = await follow.done;
    assert.equal(final.status, 'failed');
    assert.deepEqual(seen, [1, 2]);
  });

  test('a refused token ends with `unauthorized`; an unknown run with `not_found`', async () => {
    const refused = followRun({ url: server.url, token: 'bk_' + 'z'.repeat(40), runId: 'x' });
    await assert.rejects(refused.done, { code: 'unauthorized' });
    const unknown = followRun({ url: server.url, token: world.viewerA.token, runId: 'cm0000000000000000000nope' });
    await assert.rejects(unknown.done, { code: 'not_found' });
  });
});

describe('publisher', () => {
  test('publish rejects when the database cannot be reached (the worker logs it; the chunk is stored)', async () => {
    const pool = createPool(database.url, { max: 1 });
    const broken = createRunEventPublisher(pool);
    await broken.publish({ tenantId: world.tenantA, runId: 'r' }, { type: 'stage.queued', time: new Date().toISOString(), runId: 'r', stage: 's' });
    await pool.end();
    await assert.rejects(
      broken.publish({ tenantId: world.tenantA, runId: 'r' }, { type: 'stage.queued', time: new Date().toISOString(), runId: 'r', stage: 's' }),
    );
  });
});
