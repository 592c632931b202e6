import { test } from 'node:test';
import pino from 'pino';
import { StoreSink } from '../../lib/runs/store-sink';
import { createTestDatabase } from '../support/db';
import { seedTenant, triggerPipeline } from './helpers';
test('perf sink only', async (t) => {
  const db = await createTestDatabase();
  const seeded = await seedTenant(db.prisma);
  const { runId, stageRunIds } = await triggerPipeline(db.prisma, seeded, `pipeline "p" { on "manual"; }
stage "a" {
    executor "local"
    run "true"
}
`);
  const sink = new StoreSink({ prisma: db.prisma, publisher: { publish: async () => {} }, runId, tenantId: seeded.tenantId, stageRunIds, logger: pino({ level: 'silent' }) });
  const time = new Date().toISOString();
  let started = Date.now();
  for (let i = 0; i < 200000; i++) await sink.emit({ type: 'stage.log', time, runId, stage: 'a', stream: 'stdout', line: `line number ${i}`, seq: i });
  await sink.close();
  t.diagnostic(`sink: 200k lines in ${Date.now() - started} ms`);
  await db.drop();
});
