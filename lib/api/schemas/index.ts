import { z } from 'zod';
import type { Operation } from '../operation';
import { auditOperations } from './audit';
import { invitationOperations } from './invitations';
import { memberOperations } from './members';
import { organizationOperations } from './organizations';
import { pipelineOperations } from './pipelines';
import { runOperations } from './runs';
import { secretOperations } from './secrets';
import { stackRunOperations } from './stack-runs';
import { stackStateOperations } from './stack-state';
import { stackOperations } from './stacks';
import { stageOperations } from './stages';
import { summaryOperations } from './summary';
import { tenantMemberOperations } from './tenant-members';
import { tenantRunOperations } from './tenant-runs';
import { tenantOperations } from './tenants';
import { tokenOperations } from './tokens';
import { webhookOperations } from './webhooks';

export * from './audit';
export * from './common';
export * from './invitations';
export * from './members';
export * from './organizations';
export * from './pipelines';
export * from './runs';
export * from './secrets';
export * from './stack-runs';
export * from './stack-state';
export * from './stacks';
export * from './stages';
export * from './summary';
export * from './tenant-members';
export * from './tenant-runs';
export * from './tenants';
export * from './tokens';
export * from './webhooks';

/** What clients read of the OpenAPI document (the CLI: which operations a server has); the rest is OpenAPI 3.1. */
const OpenApiDocumentBody = z.looseObject({
  openapi: z.string(),
  paths: z.record(z.string(), z.record(z.string(), z.unknown())).meta({ description: 'path → method → operation' }),
});

export const openApiDocument = {
  operationId: 'getOpenApi',
  method: 'GET',
  path: '/api/v1/openapi.json',
  tag: 'meta',
  summary: 'This OpenAPI 3.1 document',
  auth: 'none',
  responses: { 200: { description: 'the OpenAPI document', schema: OpenApiDocumentBody } },
} as const satisfies Operation<'none'>;

/** Every operation of /api/v1, in document order. */
export const operations: readonly Operation[] = [
  ...organizationOperations,
  ...memberOperations,
  ...invitationOperations,
  ...tenantOperations,
  ...tenantMemberOperations,
  ...pipelineOperations,
  ...runOperations,
  ...tenantRunOperations,
  ...summaryOperations,
  ...stageOperations,
  ...secretOperations,
  ...tokenOperations,
  ...auditOperations,
  ...webhookOperations,
  ...stackOperations,
  ...stackRunOperations,
  ...stackStateOperations,
  openApiDocument,
];
