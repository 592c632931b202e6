/**
 * The one wrapper of every /api/v1 route handler: authenticates, reads and validates the body, query and
 * path params with the operation's zod schemas, runs the handler, and turns anything thrown into the
 * error body through `toErrorResponse` (lib/api/errors.ts), the single place that maps errors.
 */
import type { z } from 'zod';
import { authenticateRequest } from '../auth/authenticate';
import type { Actor } from '../auth/authorize';
import { requestOrigin, type RequestOrigin } from '../auth/request-origin';
import { createLogger, type Logger } from '../log';
import { recordDenial } from './audit';
import { db, type PrismaClient } from './db';
import { ApiError, formatIssues, toErrorResponse } from './errors';
import type { AuthMode, Operation } from './operation';

/** Largest request body we read (checked on Content-Length and again while reading). */
export const MAX_BODY_BYTES = 1024 * 1024;

type Infer<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface ApiContext<A extends AuthMode, B, Q, P> {
  request: Request;
  actor: A extends 'token' ? Actor : null;
  body: B;
  query: Q;
  params: P;
  /** Where the request came from, for audit rows. */
  origin: RequestOrigin;
  prisma: PrismaClient;
  log: Logger;
}

/** What Next passes as the second argument of a route handler (params is a Promise since Next 15). */
export interface RouteContext {
  params: Promise<Record<string, string | string[] | undefined>>;
}

export type RouteHandler = (request: Request, context?: RouteContext) => Promise<Response>;

let log: Logger | undefined;
function apiLog(): Logger {
  log ??= createLogger('api');
  return log;
}

export function withApi<
  A extends AuthMode,
  B extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  P extends z.ZodType | undefined = undefined,
>(config: Operation<A, B, Q, P>, handler: (context: ApiContext<A, Infer<B>, Infer<Q>, Infer<P>>) => Promise<Response>): RouteHandler {
  return async (request, routeContext) => {
    const logger = apiLog();
    const origin = requestOrigin(request);
    let actor: Actor | null = null;
    let params: unknown;
    try {
      // Authentication first: without a valid token every answer is 401, whatever else is wrong.
      actor = config.auth === 'token' ? await authenticateRequest(db(), request) : null;
      // A malformed id names no resource: 404 before any query.
      params = config.params ? parseParams(config.params, (await routeContext?.params) ?? {}) : undefined;
      const query = config.query ? parseQuery(config.query, new URL(request.url).searchParams) : undefined;
      const body = config.body ? parseBody(config.body, await readJsonBody(request)) : undefined;
      return await handler({
        request,
        actor: actor as ApiContext<A, unknown, unknown, unknown>['actor'],
        body: body as Infer<B>,
        query: query as Infer<Q>,
        params: params as Infer<P>,
        origin,
        // Resolved on use: routes without auth (the OpenAPI document) must work without a database.
        get prisma() {
          return db();
        },
        log: logger,
      });
    } catch (error) {
      // A refused write is audited too; reads are not (they change nothing).
      if (actor !== null && config.method !== 'GET' && error instanceof ApiError && error.status === 403) {
        await recordDenial(db(), actor, config, (params ?? {}) as Record<string, unknown>, error, origin).catch((auditError: unknown) =>
          logger.error({ err: auditError, operationId: config.operationId }, 'could not write the audit row of a denied request'),
        );
      }
      return toErrorResponse(error, logger, request);
    }
  };
}

function parseParams(schema: z.ZodType, raw: Record<string, unknown>): unknown {
  const result = schema.safeParse(raw);
  if (!result.success) throw new ApiError('not_found', 404, 'resource not found', formatIssues(result.error.issues));
  return result.data;
}

function parseQuery(schema: z.ZodType, searchParams: URLSearchParams): unknown {
  const raw: Record<string, string> = {};
  // `?status=` means "no filter", not "the empty status".
  for (const [key, value] of searchParams) if (value !== '') raw[key] = value;
  const result = schema.safeParse(raw);
  if (!result.success) throw new ApiError('invalid_query', 400, 'invalid query parameters: see details', formatIssues(result.error.issues));
  return result.data;
}

function parseBody(schema: z.ZodType, raw: unknown): unknown {
  const result = schema.safeParse(raw);
  if (!result.success) throw new ApiError('validation_failed', 422, 'the request body is not valid: see details', formatIssues(result.error.issues));
  return result.data;
}

function tooLarge(limit = MAX_BODY_BYTES): ApiError {
  return new ApiError('payload_too_large', 413, `the request body is larger than ${limit} bytes`, { limit });
}

/** The body's bytes, at most `limit` of them (413 on Content-Length and while reading): for signed bodies (webhooks). */
export async function readRawBody(request: Request, limit = MAX_BODY_BYTES): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > limit) throw tooLarge(limit);
  return readLimited(request, limit);
}

/** `application/json` or `application/*+json` (`application/merge-patch+json`), parameters allowed (`; charset=utf-8`). */
const JSON_CONTENT_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

/**
 * Reads the body as JSON with a size limit; an empty body is `{}` (every field optional). A body must be
 * declared JSON: text or form data is refused with 415, not guessed at.
 */
export async function readJsonBody(request: Request): Promise<unknown> {
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > MAX_BODY_BYTES) throw tooLarge();

  const bytes = await readLimited(request, MAX_BODY_BYTES);
  if (bytes.byteLength === 0) return {};

  const contentType = request.headers.get('content-type');
  if (contentType === null || !JSON_CONTENT_TYPE.test(contentType.trim())) {
    throw new ApiError(
      'unsupported_media_type',
      415,
      `the request body must be JSON sent with Content-Type: application/json (got ${contentType === null ? 'no Content-Type' : `Content-Type: ${contentType}`})`,
    );
  }

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError('invalid_json', 400, 'the request body is not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ApiError('invalid_json', 400, `the request body is not valid JSON: ${(error as Error).message}`);
  }
}

async function readLimited(request: Request, limit: number): Promise<Uint8Array> {
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** A JSON response (201 for creations, 200 by default). */
export function json(data: unknown, status = 200, headers?: Record<string, string>): Response {
  return Response.json(data, { status, headers });
}

export function noContent(): Response {
  return new Response(null, { status: 204 });
}
