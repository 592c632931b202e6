/**
 * An API operation: method, path, auth mode and the zod schemas of its input and output. Route files pass
 * it to `withApi`, and the OpenAPI document is generated from the same objects, so the two cannot drift.
 */
import type { z } from 'zod';

export type AuthMode = 'token' | 'none';
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface OperationResponse {
  description: string;
  /** JSON body schema; omitted for empty responses (204). */
  schema?: z.ZodType;
  /** Default application/json. */
  contentType?: string;
}

export interface ApiConfig<
  A extends AuthMode = AuthMode,
  B extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodType | undefined = z.ZodType | undefined,
  P extends z.ZodType | undefined = z.ZodType | undefined,
> {
  auth: A;
  body?: B;
  query?: Q;
  params?: P;
}

export interface Operation<
  A extends AuthMode = AuthMode,
  B extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodType | undefined = z.ZodType | undefined,
  P extends z.ZodType | undefined = z.ZodType | undefined,
> extends ApiConfig<A, B, Q, P> {
  operationId: string;
  method: HttpMethod;
  /** OpenAPI path template: `/api/v1/pipelines/{pipelineId}`. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  responses: Record<number, OperationResponse>;
}

/** Identity function that keeps the literal schema types for `withApi`'s inference. */
export function defineOperation<
  A extends AuthMode,
  B extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  P extends z.ZodType | undefined = undefined,
>(operation: Operation<A, B, Q, P>): Operation<A, B, Q, P> {
  return operation;
}
