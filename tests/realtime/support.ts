/**
 * Test support for Socket.IO: a plain node:http server on a free loopback port with attachRealtime on it
 * (no Next needed: the realtime layer only shares the HTTP server), real socket.io-client sockets, and
 * seeded runs with stored log chunks in a real PostgreSQL.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { io, type Socket } from 'socket.io-client';
import { sleep } from '../../lib/async';
import type { StageLogChunkEvent } from '../../lib/events/server-events';
import type { PrismaClient } from '../../lib/generated/prisma/client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../lib/realtime/protocol';
import { attachRealtime, type CatchUpHooks, type Realtime } from '../../lib/realtime/server';
import type { TestDatabase } from '../support/db';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface RunningServer {
  url: string;
  port: number;
  http: HttpServer;
  realtime: Realtime;
  stop(): Promise<void>;
}

export const silentLog = pino({ level: 'silent' });

export async function startRealtimeServer(
  database: TestDatabase,
  options: { port?: number; hooks?: CatchUpHooks; reauthenticateMs?: number } = {},
): Promise<RunningServer> {
  const http = createServer((_req, res) => {
    res.writeHead(404).end();
  });
  const realtime = await attachRealtime(http, {
    pool: database.pool,
    prisma: database.prisma,
    log: silentLog,
    hooks: options.hooks ?? {},
    ...(options.reauthenticateMs ? { reauthenticateMs: options.reauthenticateMs } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    http,
    realtime,
    async stop() {
      await realtime.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

export function connect(url: string, token: string | undefined, options: { reconnection?: boolean } = {}): ClientSocket {
  return io(url, {
    auth: token === undefined ? {} : { token },
    transports: ['websocket'],
    reconnection: options.reconnection ?? false,
    reconnectionDelay: 100,
    reconnectionDelayMax: 300,
    forceNew: true,
  });
}

export function connected(socket: ClientSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export interface SeededRun {
  runId: string;
  tenantId: string;
  pipelineId: string;
  stageRunId: string;
  stage: string;
}

let counter = 0;

/** A pipeline with one run of one stage (`build`) in `tenantId`. */
export async function seedRun(prisma: PrismaClient, tenantId: string): Promise<SeededRun> {
  counter += 1;
  const pipeline = await prisma.pipeline.create({ data: { tenantId, name: 'p', slug: `rt-${process.pid}-${counter}`, config: 'pipeline "p"' } });
  const run = await prisma.pipelineRun.create({
    data: { pipelineId: pipeline.id, number: 1, status: 'running', event: 'manual', plan: { stages: [{ id: 'build' }] }, startedAt: new Date() },
  });
  const stage = await prisma.stageRun.create({ data: { runId: run.id, stageId: 'build', name: 'build', status: 'running' } });
  return { runId: run.id, tenantId, pipelineId: pipeline.id, stageRunId: stage.id, stage: 'build' };
}

/** Stores chunk `seq` the way the worker does (one line per chunk here, or `lines` lines). */
export async function insertChunk(database: TestDatabase, run: SeededRun, seq: number, lines: string[] = [`line ${seq}`]): Promise<StageLogChunkEvent> {
  const { rows } = await database.pool.query<{ created_at: Date }>(
    `INSERT INTO log_chunks (stage_run_id, seq, text, first_line, line_count, streams, attempt)
     VALUES ($1, $2, $3, $4, $5, $6, 1) RETURNING created_at`,
    [run.stageRunId, seq, lines.map((l) => `${l}\n`).join(''), seq, lines.length, 'o'.repeat(lines.length)],
  );
  return {
    type: 'stage.log_chunk',
    time: rows[0]!.created_at.toISOString(),
    runId: run.runId,
    stage: run.stage,
    stageRunId: run.stageRunId,
    seq,
    firstLine: seq,
    lines: lines.map((line) => ({ stream: 'stdout', line })),
  };
}
