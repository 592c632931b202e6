/**
 * Test support for the worker's run execution: a tenant with a pipeline, runs triggered exactly as the
 * API does it (lib/api/services/runs.ts triggerRun: run + stage runs + `run` job in one transaction),
 * and a recording publisher that reads the database when an event is published (so a test can assert
 * that each transition was written BEFORE it was published).
 */
import { randomBytes } from 'node:crypto';
import { triggerRun } from '../../lib/api/services/runs';
import type { Actor } from '../../lib/auth/authorize';
import type { RunEventPublisher, ServerRunEvent } from '../../lib/events/server-events';
import type { PrismaClient } from '../../lib/generated/prisma/client';

export interface Seeded {
  tenantId: string;
  actor: Actor;
}

export async function seedTenant(prisma: PrismaClient): Promise<Seeded> {
  const suffix = randomBytes(4).toString('hex');
  const org = await prisma.organization.create({ data: { slug: `org-${suffix}`, name: 'Org' } });
  const tenant = await prisma.tenant.create({ data: { organizationId: org.id, slug: 'main', name: 'Main' } });
  const user = await prisma.user.create({ data: { email: `runner-${suffix}@example.test` } });
  await prisma.orgMembership.create({ data: { organizationId: org.id, userId: user.id, role: 'owner' } });
  const actor: Actor = {
    kind: 'api_key',
    userId: user.id,
    apiKeyId: `test-${suffix}`,
    organizationId: org.id,
    orgRole: 'owner',
    tenantRoles: {},
    tenantRestriction: null,
    scopes: ['admin'],
  };
  return { tenantId: tenant.id, actor };
}

/** Creates a pipeline with this KDL and triggers a manual run of it through the API's service. */
export async function triggerPipeline(prisma: PrismaClient, seeded: Seeded, kdl: string): Promise<{ runId: string; stageRunIds: Map<string, string> }> {
  const pipeline = await prisma.pipeline.create({
    data: { tenantId: seeded.tenantId, name: 'p', slug: `p-${randomBytes(4).toString('hex')}`, config: kdl },
  });
  const run = await triggerRun(prisma, seeded.actor, pipeline.id, { event: 'manual', variables: {} }, null);
  return { runId: run.id, stageRunIds: new Map(run.stages.map((stage) => [stage.stageId, stage.id])) };
}

export function runJob(runId: string, attempts = 1) {
  return { id: `job-${runId}`, payload: { runId }, attempts };
}

export interface Published {
  event: ServerRunEvent;
  /** What the database said when the event was published. */
  db: { runStatus?: string; stageStatus?: string; stageAttempt?: number; stageExitCode?: number | null; chunkStored?: boolean; chunkText?: string };
}

/** Records events and the database state at publish time. A stand-in for the Socket.IO publisher. */
export class RecordingPublisher implements RunEventPublisher {
  readonly published: Published[] = [];
  private listeners: Array<(event: ServerRunEvent) => void | Promise<void>> = [];

  constructor(private readonly prisma: PrismaClient) {}

  /** Called (and awaited) after each event is recorded, while the sink waits for the publish. */
  onEvent(listener: (event: ServerRunEvent) => void | Promise<void>): void {
    this.listeners.push(listener);
  }

  async publish(_target: { tenantId: string; runId: string }, event: ServerRunEvent): Promise<void> {
    const db: Published['db'] = {};
    if (event.type === 'run.queued' || event.type === 'run.started' || event.type === 'run.finished') {
      db.runStatus = (await this.prisma.pipelineRun.findUniqueOrThrow({ where: { id: event.runId } })).status;
    } else if (event.type === 'stage.log_chunk') {
      const chunk = await this.prisma.logChunk.findUnique({ where: { stageRunId_seq: { stageRunId: event.stageRunId, seq: event.seq } } });
      db.chunkStored = chunk !== null;
      if (chunk) db.chunkText = chunk.text;
    } else {
      const stage = await this.prisma.stageRun.findFirstOrThrow({ where: { runId: event.runId, stageId: event.stage } });
      db.stageStatus = stage.status;
      db.stageAttempt = stage.attempt;
      db.stageExitCode = stage.exitCode;
    }
    this.published.push({ event, db });
    for (const listener of this.listeners) await listener(event);
  }

  ofType<T extends ServerRunEvent['type']>(type: T): Array<Extract<ServerRunEvent, { type: T }>> {
    return this.published.map((p) => p.event).filter((e): e is Extract<ServerRunEvent, { type: T }> => e.type === type);
  }
}

/** A stage run's stored log: chunks in seq order, and the concatenated text. */
export async function storedLog(prisma: PrismaClient, stageRunId: string) {
  const chunks = await prisma.logChunk.findMany({ where: { stageRunId }, orderBy: { seq: 'asc' } });
  return {
    chunks,
    text: chunks.map((c) => c.text).join(''),
    lines: chunks
      .map((c) => c.text)
      .join('')
      .split('\n')
      .slice(0, -1),
  };
}
