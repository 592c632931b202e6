/**
 * A FAKE forge for the commit status tests: an HTTP server on 127.0.0.1 that records every call (method,
 * path, headers, JSON body) and answers 201, or 503 while `unavailable` (its body echoes the request's
 * credentials, to check they are kept out of errors). `stop()` closes the port (a forge that is down) and
 * `start()` opens the same port again.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ForgeCall {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export class FakeForge {
  readonly calls: ForgeCall[] = [];
  /** Answer 503 (after recording the call). */
  unavailable = false;
  private server: Server | null = null;
  private port = 0;

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          body = { raw: text };
        }
        this.calls.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body });
        if (this.unavailable) {
          response.writeHead(503, { 'content-type': 'text/plain' });
          response.end(`unavailable (you sent ${request.headers.authorization ?? request.headers['private-token'] ?? 'nothing'})`);
          return;
        }
        response.writeHead(201, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ id: this.calls.length, state: body.state }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Closes the port: calls fail with ECONNREFUSED until start(). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The states received for `path` (a status URL), in order. */
  states(path: string): string[] {
    return this.calls.filter((call) => call.path === path && call.method === 'POST').map((call) => String(call.body.state));
  }
}
