/**
 * Socket.IO with a browser's session cookie (no API token), against a real PostgreSQL: a live session's
 * socket connects and follows the runs its user may read; a signed-out session, a disabled user, a cookie
 * that does not verify, and a live cookie sent from another site are refused at the handshake.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { encode } from 'next-auth/jwt';
import { io } from 'socket.io-client';
import { authSecret, sessionCookieName } from '../../lib/auth/session-cookie';
import { revokeSession, startSession } from '../../lib/auth/sessions';
import { RUN_SNAPSHOT, SUBSCRIBE, SUBSCRIBE_TENANT, type RunSnapshot, type SimpleAck, type SubscribeAck } from '../../lib/realtime/protocol';
import { createUserWithToken, seedWorld, type World } from '../api/helpers';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { connected, insertChunk, seedRun, startRealtimeServer, type ClientSocket, type RunningServer } from './support';

// Session cookies are signed with this test's own key (read once, at the first authSecret()).
process.env.BUILDIT_AUTH_SECRET = randomBytes(32).toString('base64url');
delete process.env.BUILDIT_PUBLIC_URL;

let database: TestDatabase;
let world: World;
let server: RunningServer;
const sockets: ClientSocket[] = [];

before(async () => {
  database = await createTestDatabase();
  world = await seedWorld(database.prisma);
  server = await startRealtimeServer(database);
});

after(async () => {
  for (const socket of sockets) socket.close();
  await server?.stop();
  await database?.drop();
});

/** A `Cookie` header naming a new session of the user, as the sign-in sets it, and the session's id. */
async function sessionCookie(userId: string): Promise<{ cookie: string; sessionId: string }> {
  const started = await startSession(database.prisma, { userId, provider: 'password', origin: null });
  assert.ok(started, 'the user belongs to an organization');
  const token = await encode({ token: { sid: started.sessionId }, secret: authSecret() });
  return { cookie: `other=1; ${sessionCookieName()}=${token}`, sessionId: started.sessionId };
}

/** A browser-like socket: the cookie (and maybe an Origin) in the handshake's headers, no `auth.token`. */
function browserSocket(headers: Record<string, string>): ClientSocket {
  const socket: ClientSocket = io(server.url, { transports: ['websocket'], extraHeaders: headers, reconnection: false, forceNew: true });
  sockets.push(socket);
  return socket;
}

async function refusal(socket: ClientSocket): Promise<{ message: string; data?: { code: string; message: string } }> {
  const outcome = await connected(socket).then(
    () => null,
    (error: unknown) => error as Error & { data?: { code: string; message: string } },
  );
  assert.ok(outcome, 'the connection was accepted');
  assert.equal(outcome.message, 'unauthorized');
  assert.equal(outcome.data?.code, 'unauthorized');
  return outcome;
}

describe('a live session cookie', () => {
  test('connects, and follows a run of a tenant the user can read (snapshot and stored chunks)', async () => {
    const viewer = await createUserWithToken(database.prisma, { organizationId: world.orgId, orgRole: 'member', tenantRoles: { [world.tenantA]: 'viewer' } });
    const { cookie } = await sessionCookie(viewer.userId);
    const run = await seedRun(database.prisma, world.tenantA);
    await insertChunk(database, run, 1);
    await insertChunk(database, run, 2);

    const socket = browserSocket({ cookie });
    const snapshots: RunSnapshot[] = [];
    socket.on(RUN_SNAPSHOT, (snapshot) => snapshots.push(snapshot));
    await connected(socket);
    assert.ok(socket.connected);

    const ack: SubscribeAck = await socket.timeout(10_000).emitWithAck(SUBSCRIBE, { runId: run.runId });
    assert.equal(ack.ok, true, JSON.stringify(ack));
    assert.ok(ack.ok);
    assert.equal(ack.sent, 2);
    assert.deepEqual(ack.caughtUp, { [run.stageRunId]: 2 });
    assert.equal(snapshots.length, 1);
    assert.deepEqual([snapshots[0]!.runId, snapshots[0]!.tenantId], [run.runId, world.tenantA]);

    assert.deepEqual(await socket.timeout(10_000).emitWithAck(SUBSCRIBE_TENANT, { tenantId: world.tenantA }), { ok: true } satisfies SimpleAck);
  });

  test('sent with its own Origin (the page BuildIt served) it connects', async () => {
    const { cookie } = await sessionCookie(world.memberA.userId);
    const socket = browserSocket({ cookie, origin: server.url });
    await connected(socket);
    assert.ok(socket.connected);
  });

  test('a tenant the user cannot see, its runs and another organization’s answer `not_found`', async () => {
    // A member of tenant A only.
    const { cookie } = await sessionCookie(world.memberA.userId);
    const ownRun = await seedRun(database.prisma, world.tenantA);
    const hiddenRun = await seedRun(database.prisma, world.tenantB);
    const foreignRun = await seedRun(database.prisma, world.otherTenant);
    const socket = browserSocket({ cookie });
    await connected(socket);

    for (const tenantId of [world.tenantB, world.otherTenant]) {
      const ack: SimpleAck = await socket.timeout(10_000).emitWithAck(SUBSCRIBE_TENANT, { tenantId });
      assert.equal(ack.ok === false && ack.error.code, 'not_found', JSON.stringify(ack));
    }
    for (const runId of [hiddenRun.runId, foreignRun.runId]) {
      const ack: SubscribeAck = await socket.timeout(10_000).emitWithAck(SUBSCRIBE, { runId });
      assert.deepEqual(ack, { ok: false, error: { code: 'not_found', message: 'run not found' } });
    }
    const own: SubscribeAck = await socket.timeout(10_000).emitWithAck(SUBSCRIBE, { runId: ownRun.runId });
    assert.equal(own.ok, true, 'the same socket still follows what it may read');
  });
});

describe('refused at the handshake with `unauthorized`', () => {
  test("a signed-out (revoked) session's cookie", async () => {
    const { cookie, sessionId } = await sessionCookie(world.memberA.userId);
    const live = browserSocket({ cookie });
    await connected(live);
    await revokeSession(database.prisma, sessionId);
    const error = await refusal(browserSocket({ cookie }));
    assert.match(error.data?.message ?? '', /signed out: sign in again/);
  });

  test("a disabled user's cookie", async () => {
    const user = await createUserWithToken(database.prisma, { organizationId: world.orgId, orgRole: 'member', tenantRoles: { [world.tenantA]: 'viewer' } });
    const { cookie } = await sessionCookie(user.userId);
    await database.prisma.user.update({ where: { id: user.userId }, data: { disabledAt: new Date() } });
    const error = await refusal(browserSocket({ cookie }));
    assert.match(error.data?.message ?? '', /disabled/);
  });

  test('a garbage cookie, and a cookie signed with another key', async () => {
    const garbage = await refusal(browserSocket({ cookie: `${sessionCookieName()}=not-a-jwt` }));
    assert.match(garbage.data?.message ?? '', /session cookie is not valid/);

    const started = await startSession(database.prisma, { userId: world.memberA.userId, provider: 'password', origin: null });
    const forged = await encode({ token: { sid: started!.sessionId }, secret: randomBytes(32).toString('base64url') });
    const error = await refusal(browserSocket({ cookie: `${sessionCookieName()}=${forged}` }));
    assert.match(error.data?.message ?? '', /session cookie is not valid/);
  });

  test('a cookie without the session cookie', async () => {
    const error = await refusal(browserSocket({ cookie: 'theme=dark; other=1' }));
    assert.match(error.data?.message ?? '', /authentication required/);
  });

  test('a live cookie sent with a foreign Origin header', async () => {
    const { cookie } = await sessionCookie(world.memberA.userId);
    const error = await refusal(browserSocket({ cookie, origin: 'https://evil.example' }));
    assert.match(error.data?.message ?? '', /https:\/\/evil\.example/);
    // The same cookie without that Origin is fine: it was refused for the Origin alone.
    await connected(browserSocket({ cookie }));
  });
});

describe('a session ended while connected', () => {
  test('the socket is disconnected at the next check of its session', async () => {
    const checking = await startRealtimeServer(database, { reauthenticateMs: 100 });
    try {
      const { cookie, sessionId } = await sessionCookie(world.viewerA.userId);
      const socket: ClientSocket = io(checking.url, { transports: ['websocket'], extraHeaders: { cookie }, reconnection: false, forceNew: true });
      sockets.push(socket);
      await connected(socket);
      const reason = new Promise<string>((resolve) => socket.once('disconnect', resolve));
      await revokeSession(database.prisma, sessionId);
      assert.equal(await reason, 'io server disconnect');
    } finally {
      await checking.stop();
    }
  });
});
