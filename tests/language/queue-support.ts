/**
 * The language's server tests under the real job queue: a test database with a tenant, pipelines made
 * from KDL, pushes triggered through the API's service, and in-process workers (lib/queue/runner.ts with
 * the worker's run handler) that a test starts and that stop after it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import pino from 'pino';
import { JobRunner } from '../../lib/queue/runner';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { RecordingPublisher, seedTenant, type Seeded } from '../runs/helpers';
import { createRunPipelineHandler } from '../../worker/jobs/run-pipeline';

export const push = (sha: string) => ({ event: 'push' as const, branch: 'main', sha, variables: {} });

export class QueueWorld {
  private constructor(
    readonly db: TestDatabase,
    readonly seeded: Seeded,
    private readonly scratch: string,
  ) {}

  static async create(name: string): Promise<QueueWorld> {
    const db = await createTestDatabase();
    return new QueueWorld(db, await seedTenant(db.prisma), mkdtempSync(path.join(os.tmpdir(), `buildit-language-${name}-`)));
  }

  async drop(): Promise<void> {
    await this.db.drop();
    rmSync(this.scratch, { recursive: true, force: true });
  }

  async pipelineWith(slug: string, kdl: string): Promise<string> {
    return (await this.db.prisma.pipeline.create({ data: { tenantId: this.seeded.tenantId, name: slug, slug, config: kdl } })).id;
  }

  /** A started worker with `concurrency` slots, stopped after the test. */
  async worker(t: TestContext, id: string, concurrency: number, publisher = new RecordingPublisher(this.db.prisma)): Promise<JobRunner> {
    const silent = pino({ level: 'silent' });
    const handler = createRunPipelineHandler({ prisma: this.db.prisma, publisher, dataDir: this.scratch, cancelPollMs: 100, logger: silent });
    const runner = new JobRunner({ pool: this.db.pool, workerId: id, handlers: { run: handler }, concurrency, pollMs: 200, log: silent });
    await runner.start();
    t.after(() => runner.stop({ graceMs: 1_000 }));
    return runner;
  }
}
