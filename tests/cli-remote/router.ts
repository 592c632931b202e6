/**
 * A TEST ROUTER, not a fake API: a plain node:http server that hands each /api/v1 request to the real
 * route handler module (app/api/v1/**\/route.ts, the code Next serves), with Socket.IO (attachRealtime)
 * on the same port. It stands in for Next's routing only, so the CLI can be tested against the real
 * handlers over real HTTP without building the web app. Handlers use the test database through
 * setPrismaForTests.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import * as openApiRoute from '../../app/api/v1/openapi.json/route';
import * as pipelineRunsRoute from '../../app/api/v1/pipelines/[pipelineId]/runs/route';
import * as pipelineRoute from '../../app/api/v1/pipelines/[pipelineId]/route';
import * as cancelRoute from '../../app/api/v1/runs/[runId]/cancel/route';
import * as rerunRoute from '../../app/api/v1/runs/[runId]/rerun/route';
import * as runRoute from '../../app/api/v1/runs/[runId]/route';
import * as logsRoute from '../../app/api/v1/runs/[runId]/stages/[stageRunId]/logs/route';
import * as tenantPipelinesRoute from '../../app/api/v1/tenants/[tenantId]/pipelines/route';
import * as tenantRoute from '../../app/api/v1/tenants/[tenantId]/route';
import * as tenantSecretRoute from '../../app/api/v1/tenants/[tenantId]/secrets/[name]/route';
import * as tenantSecretsRoute from '../../app/api/v1/tenants/[tenantId]/secrets/route';
import * as tenantsRoute from '../../app/api/v1/tenants/route';
import * as revokeTokenRoute from '../../app/api/v1/tokens/[tokenId]/revoke/route';
import * as tokensRoute from '../../app/api/v1/tokens/route';
import type { RouteHandler } from '../../lib/api/with-api';
import { attachRealtime, type Realtime } from '../../lib/realtime/server';
import type { TestDatabase } from '../support/db';
import { silentLog } from '../realtime/support';

type RouteModule = Partial<Record<'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', RouteHandler>>;

/** Next's app-router paths, `[param]` segments as in the directory names. */
const ROUTES: Array<[string, RouteModule]> = [
  ['/api/v1/openapi.json', openApiRoute],
  ['/api/v1/tenants', tenantsRoute],
  ['/api/v1/tenants/[tenantId]', tenantRoute],
  ['/api/v1/tenants/[tenantId]/pipelines', tenantPipelinesRoute],
  ['/api/v1/tenants/[tenantId]/secrets', tenantSecretsRoute],
  ['/api/v1/tenants/[tenantId]/secrets/[name]', tenantSecretRoute],
  ['/api/v1/pipelines/[pipelineId]', pipelineRoute],
  ['/api/v1/pipelines/[pipelineId]/runs', pipelineRunsRoute],
  ['/api/v1/runs/[runId]', runRoute],
  ['/api/v1/runs/[runId]/cancel', cancelRoute],
  ['/api/v1/runs/[runId]/rerun', rerunRoute],
  ['/api/v1/runs/[runId]/stages/[stageRunId]/logs', logsRoute],
  ['/api/v1/tokens', tokensRoute],
  ['/api/v1/tokens/[tokenId]/revoke', revokeTokenRoute],
];

function match(pathname: string): { module: RouteModule; params: Record<string, string> } | null {
  const parts = pathname.split('/');
  for (const [pattern, module] of ROUTES) {
    const expected = pattern.split('/');
    if (expected.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const ok = expected.every((segment, i) => {
      const param = /^\[(\w+)\]$/.exec(segment);
      if (param) {
        params[param[1]!] = decodeURIComponent(parts[i]!);
        return true;
      }
      return segment === parts[i];
    });
    if (ok) return { module, params };
  }
  return null;
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
  const route = match(url.pathname);
  const method = (req.method ?? 'GET') as keyof RouteModule;
  const handler = route?.module[method];
  if (!route || !handler) {
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'not_found', message: 'no such route', details: null } }));
    return;
  }
  const headers = new Headers();
  for (const [key, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(key, value);
  const hasBody = method !== 'GET' && method !== 'DELETE';
  const request = new Request(url, {
    method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    duplex: 'half',
  } as RequestInit & { duplex: 'half' });
  const response = await handler(request, { params: Promise.resolve(route.params) });
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
}

export interface TestApiServer {
  url: string;
  realtime: Realtime;
  stop(): Promise<void>;
}

export async function startTestApiServer(database: TestDatabase): Promise<TestApiServer> {
  const http = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
  });
  const realtime = await attachRealtime(http, { pool: database.pool, prisma: database.prisma, log: silentLog });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    realtime,
    async stop() {
      await realtime.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
