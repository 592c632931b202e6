/**
 * A TEST ROUTER, not a fake API: a node:http server that hands each /api/v1 request to the real route
 * handler module under app/api/v1 (found by walking the directory, as Next does), so the real terraform CLI
 * and the CLI talk to the real handlers over HTTP without a `next build`. LOCK and UNLOCK go through
 * lib/stacks/state/methods.ts exactly as in server.ts. With `realtime` (the test database), Socket.IO
 * (attachRealtime) answers on the same port, as in server.ts. Handlers use the test database through
 * setPrismaForTests.
 */
import { readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { RouteHandler } from '../../lib/api/with-api';
import { attachRealtime, type Realtime } from '../../lib/realtime/server';
import { lockMethodRoute } from '../../lib/stacks/state/methods';
import { silentLog } from '../realtime/support';
import type { TestDatabase } from './db';

type RouteModule = Partial<Record<string, RouteHandler>>;

const APP_DIR = path.resolve(import.meta.dirname, '../../app');

function routeFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return routeFiles(full);
    return entry.name === 'route.ts' ? [full] : [];
  });
}

async function loadRoutes(): Promise<Array<{ segments: string[]; module: RouteModule }>> {
  const files = routeFiles(path.join(APP_DIR, 'api/v1'));
  return Promise.all(
    files.map(async (file) => ({
      segments: ('/' + path.relative(APP_DIR, path.dirname(file)).split(path.sep).join('/')).split('/'),
      module: (await import(pathToFileURL(file).href)) as RouteModule,
    })),
  );
}

function match(routes: Awaited<ReturnType<typeof loadRoutes>>, pathname: string) {
  const parts = pathname.split('/');
  // Static segments win over parameters (as in Next): try the routes with more static segments first.
  const candidates = routes.filter((route) => route.segments.length === parts.length);
  candidates.sort((a, b) => b.segments.filter((s) => !s.startsWith('[')).length - a.segments.filter((s) => !s.startsWith('[')).length);
  for (const route of candidates) {
    const params: Record<string, string> = {};
    const ok = route.segments.every((segment, i) => {
      const param = /^\[(\w+)\]$/.exec(segment);
      if (param) {
        params[param[1]!] = decodeURIComponent(parts[i]!);
        return true;
      }
      return segment === parts[i];
    });
    if (ok) return { module: route.module, params };
  }
  return null;
}

export interface TestRouter {
  url: string;
  /** Socket.IO on the router's port, when started with `realtime`. */
  realtime: Realtime | null;
  stop(): Promise<void>;
}

/**
 * `realtime`: the test database, to answer Socket.IO on the router's port. `onResponse`: told of each answered
 * request and how long it took (the stack-plan benchmark times the state backend).
 */
export async function startTestRouter(
  options: { realtime?: TestDatabase; onResponse?: (method: string, pathname: string, ms: number) => void } = {},
): Promise<TestRouter> {
  const routes = await loadRoutes();
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const start = performance.now();
    if (options.onResponse)
      res.once('finish', () => options.onResponse!(req.method ?? 'GET', new URL(req.url ?? '/', 'http://x').pathname, performance.now() - start));
    const lockRoute = lockMethodRoute(req.method, req.url);
    const method = lockRoute !== null ? 'POST' : (req.method ?? 'GET');
    const url = new URL(lockRoute ?? req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    const route = match(routes, url.pathname);
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
  };
  const http = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => res.writeHead(500).end(String(error)));
  });
  const database = options.realtime;
  const realtime = database ? await attachRealtime(http, { pool: database.pool, prisma: database.prisma, log: silentLog }) : null;
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    realtime,
    async stop() {
      await realtime?.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
