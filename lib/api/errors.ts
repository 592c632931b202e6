/**
 * API errors, and the ONE place where anything thrown in a route handler becomes an HTTP response.
 * Every error body has the same shape: `{"error": {"code", "message", "details"}}`.
 * Bad input is always a 4xx; only our own bugs and outages become `500 internal` (logged, no stack sent).
 */
import { ZodError, type z } from 'zod';
import { AuthError } from '../auth/errors';
import { Prisma } from '../generated/prisma/client';
import { createLogger, type Logger } from '../log';
import type { ErrorBody } from './schemas/common';

export class ApiError extends Error {
  constructor(
    /** Stable, machine-readable: `not_found`, `validation_failed`, `invalid_pipeline`, ... */
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function errorResponse(status: number, code: string, message: string, details: unknown = null, headers?: Record<string, string>): Response {
  const body: ErrorBody = { error: { code, message, details } };
  return Response.json(body, { status, headers });
}

export const notFound = (what = 'resource'): ApiError => new ApiError('not_found', 404, `${what} not found`);

/** zod issues as `{path, message, code}`, path joined with dots (`variables.FOO`, `stages.0.name`). */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): Array<{ path: string; message: string; code: string }> {
  return issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
    code: issue.code,
  }));
}

function isPrismaKnownError(error: unknown): error is { code: string; meta?: Record<string, unknown>; message: string } {
  return (
    error instanceof Prisma.PrismaClientKnownRequestError ||
    (error instanceof Error && error.name === 'PrismaClientKnownRequestError' && typeof (error as { code?: unknown }).code === 'string')
  );
}

let defaultLog: Logger | undefined;
function apiLog(): Logger {
  defaultLog ??= createLogger('api');
  return defaultLog;
}

/** The challenge of every 401 (RFC 6750): how to authenticate. */
const BEARER_CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="buildit"' };

/** Maps anything thrown by a handler to a response. The only place that decides error statuses. */
export function toErrorResponse(error: unknown, log: Logger = apiLog(), request?: Request): Response {
  if (error instanceof ApiError) {
    return errorResponse(error.status, error.code, error.message, error.details ?? null);
  }
  if (error instanceof AuthError) {
    // A cross-site write is authenticated, but refused: 403, and no challenge to send other credentials.
    return error.code === 'cross_site' ? errorResponse(403, error.code, error.message) : errorResponse(401, error.code, error.message, null, BEARER_CHALLENGE);
  }
  if (error instanceof ZodError) {
    return errorResponse(422, 'validation_failed', 'the request is not valid: see details', formatIssues(error.issues));
  }
  if (isPrismaKnownError(error)) {
    if (error.code === 'P2025') return errorResponse(404, 'not_found', 'resource not found');
    if (error.code === 'P2002') {
      const target = error.meta?.target ?? (error.meta?.driverAdapterError as { cause?: { constraint?: unknown } } | undefined)?.cause?.constraint;
      return errorResponse(409, 'conflict', 'a resource with the same unique value already exists', target === undefined ? null : { target });
    }
  }
  log.error({ err: error, method: request?.method, url: request?.url }, 'unhandled error in API handler');
  return errorResponse(500, 'internal', 'internal server error');
}
