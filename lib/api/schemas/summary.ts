/** A tenant's activity at a glance (the web app's dashboard): schemas and operation. */
import { z } from 'zod';
import { defineOperation } from '../operation';
import { Id, Timestamp } from './common';
import { TenantParams } from './tenants';

/** How far back a summary may look: its runs are read on every request. */
export const MAX_SUMMARY_DAYS = 31;
const DAY_MS = 24 * 3600 * 1000;

export const SummaryQuery = z.object({
  since: Timestamp.optional()
    .refine((since) => since === undefined || Date.parse(since) >= Date.now() - MAX_SUMMARY_DAYS * DAY_MS, `at most ${MAX_SUMMARY_DAYS} days ago`)
    .meta({
      description: `count the runs created at or after this time (the web app sends the start of the viewer's day); default: the last 24 hours, at most ${MAX_SUMMARY_DAYS} days ago`,
    }),
});

const Count = z.number().int().min(0);

export const TenantSummary = z.object({
  tenantId: Id,
  since: Timestamp,
  runs: z
    .object({ total: Count, queued: Count, running: Count, succeeded: Count, failed: Count, cancelled: Count })
    .meta({ description: 'runs of the tenant created since `since`, by status' }),
  durationsMs: z
    .array(Count)
    .meta({
      description:
        'how long each run created since `since` that has finished took (started to finished), shortest first: for the median, kept live from `run.finished` events',
    }),
  medianDurationMs: Count.nullable().meta({ description: 'the median of `durationsMs`; null when no run has finished' }),
  active: z
    .array(z.object({ id: Id, status: z.enum(['queued', 'running']), createdAt: Timestamp }))
    .meta({ description: 'every queued or running run of the tenant (also older than `since`), to follow with Socket.IO events' }),
  organization: z
    .object({
      queuedRuns: Count.meta({ description: 'runs of every tenant of the organization waiting for a worker' }),
      busyWorkers: Count.meta({
        description: 'workers running a run of the organization now (distinct holders of a live job lease); idle workers are not recorded',
      }),
    })
    .meta({ description: 'the queue and the workers are shared by the tenants of the organization: these count the whole organization' }),
});
export type TenantSummary = z.output<typeof TenantSummary>;

export const getTenantSummary = defineOperation({
  operationId: 'getTenantSummary',
  method: 'GET',
  path: '/api/v1/tenants/{tenantId}/summary',
  tag: 'runs',
  summary: "A tenant's runs since a time, its active runs, and the organization's queue and busy workers",
  auth: 'token',
  params: TenantParams,
  query: SummaryQuery,
  responses: { 200: { description: 'the summary', schema: TenantSummary } },
});

export const summaryOperations = [getTenantSummary];
