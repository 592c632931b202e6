/**
 * An API operation: method, path, auth mode and the zod schemas of its input and output. Route files pass
 * it to `withApi`, the OpenAPI document is generated from the same objects, and the remote CLI calls the
 * API through them (cli/remote/client.ts), so none of the three can drift from the others.
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

export type OperationResponses = Record<number, OperationResponse>;

export interface Operation<
  A extends AuthMode = AuthMode,
  B extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodType | undefined = z.ZodType | undefined,
  P extends z.ZodType | undefined = z.ZodType | undefined,
  R extends OperationResponses = OperationResponses,
> extends ApiConfig<A, B, Q, P> {
  operationId: string;
  method: HttpMethod;
  /** OpenAPI path template: `/api/v1/pipelines/{pipelineId}`. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  responses: R;
}

/** Identity function that keeps the literal schema types for `withApi`'s and the CLI client's inference. */
export function defineOperation<
  A extends AuthMode,
  B extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  P extends z.ZodType | undefined = undefined,
  R extends OperationResponses = OperationResponses,
>(operation: Operation<A, B, Q, P, R>): Operation<A, B, Q, P, R> {
  return operation;
}
