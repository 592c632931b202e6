import type { Operation } from '../operation';
import { pipelineOperations } from './pipelines';
import { runOperations } from './runs';
import { tenantOperations } from './tenants';

export * from './common';
export * from './pipelines';
export * from './runs';
export * from './tenants';

export const openApiDocument = {
  operationId: 'getOpenApi',
  method: 'GET',
  path: '/api/v1/openapi.json',
  tag: 'meta',
  summary: 'This OpenAPI 3.1 document',
  auth: 'none',
  responses: { 200: { description: 'the OpenAPI document' } },
} as const satisfies Operation<'none'>;

/** Every operation of /api/v1, in document order. */
export const operations: readonly Operation[] = [...tenantOperations, ...pipelineOperations, ...runOperations, openApiDocument];
