// The cron scheduler (lib/schedule) and the `schedule` job (worker/jobs/schedule.ts) against a real
// PostgreSQL: slots with an injected clock and the catch-up policy, the advisory-lock election and its
// failover, two schedulers racing for the same slot, the created run, and bad configs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { JobRunner } from '../../lib/queue/runner';
import { SCHEDULE_JOB_KIND, SCHEDULER_LOCK, Scheduler, scheduleDedupeKey, type SchedulerOptions } from '../../lib/schedule/scheduler';
import { dueSlot, latestSlot, previousSlot } from '../../lib/schedule/slots';
import { createScheduleHandler, runScheduleJob } from '../../worker/jobs/schedule';
import { createTestDatabase, type TestDatabase } from '../support/db';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** A pino logger whose lines are kept (parsed) for assertions. */
function captureLog() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

const at = (iso: string) => new Date(iso);
const CREATED = at('2026-01-01T00:00:00Z');

const kdl = (cron: string, extra = '') => `pipeline "nightly" {
    on "schedule" cron="${cron}"
    on "manual"
}
${extra}
stage "build" {
    executor "local"
    run "echo build"
}
stage "test" needs="build" {
    executor "local"
    run "echo test"
}
`;

describe('slots (pure)', () => {
  test('the most recent slot at or before now, in UTC', () => {
    assert.equal(previousSlot('* * * * *', at('2026-01-01T10:05:00.000Z'))?.toISOString(), '2026-01-01T10:05:00.000Z');
    assert.equal(previousSlot('* * * * *', at('2026-01-01T10:05:59.999Z'))?.toISOString(), '2026-01-01T10:05:00.000Z');
    assert.equal(previousSlot('0 3 * * *', at('2026-01-01T02:59:59Z'))?.toISOString(), '2025-12-31T03:00:00.000Z');
    assert.equal(previousSlot('0 3 * * *', at('2026-01-01T03:00:14Z'))?.toISOString(), '2026-01-01T03:00:00.000Z');
    assert.equal(previousSlot('@hourly', at('2026-01-01T03:20:00Z'))?.toISOString(), '2026-01-01T03:00:00.000Z');
    assert.equal(previousSlot('not a cron', at('2026-01-01T03:20:00Z')), null);
    assert.equal(latestSlot(['0 3 * * *', '30 2 * * *'], at('2026-01-01T02:45:00Z'))?.toISOString(), '2026-01-01T02:30:00.000Z');
  });

  test('due slot of a window (after, now]: only the latest one after downtime, none when already past', () => {
    // An every-minute cron down from 10:00:30 to 10:07:10: one slot (10:07), not seven.
    assert.equal(dueSlot(['* * * * *'], at('2026-01-01T10:00:30Z'), at('2026-01-01T10:07:10Z'))?.toISOString(), '2026-01-01T10:07:00.000Z');
    // Inside one minute: nothing new.
    assert.equal(dueSlot(['* * * * *'], at('2026-01-01T10:07:10Z'), at('2026-01-01T10:07:25Z')), null);
    // The boundary belongs to the window that ends on it.
    assert.equal(dueSlot(['* * * * *'], at('2026-01-01T10:07:45Z'), at('2026-01-01T10:08:00Z'))?.toISOString(), '2026-01-01T10:08:00.000Z');
    assert.equal(dueSlot(['* * * * *'], at('2026-01-01T10:08:00Z'), at('2026-01-01T10:08:15Z')), null);
  });
});

describe('scheduler against PostgreSQL', () => {
  let db: TestDatabase;
  let tenantId: string;
  const schedulers: Scheduler[] = [];

  before(async () => {
    db = await createTestDatabase();
    const suffix = randomBytes(4).toString('hex');
    const org = await db.prisma.organization.create({ data: { slug: `org-${suffix}`, name: 'Org' } });
    tenantId = (await db.prisma.tenant.create({ data: { organizationId: org.id, slug: 'main', name: 'Main' } })).id;
  });
  after(async () => {
    await Promise.all(schedulers.map((s) => s.stop()));
    await db?.drop();
  });

  /** A scheduler on its own lock (so the tests of this file do not elect each other), never started unless asked. */
  function scheduler(options: Partial<SchedulerOptions> = {}): Scheduler {
    const s = new Scheduler({ pool: db.pool, prisma: db.prisma, lock: [SCHEDULER_LOCK[0], Math.floor(Math.random() * 2 ** 30)], ...options });
    schedulers.push(s);
    return s;
  }

  /** A pipeline created (and last changed) at `createdAt`, on the injected clock's timeline. */
  async function pipeline(config: string, data: { defaultBranch?: string; createdAt?: Date } = {}) {
    const createdAt = data.createdAt ?? CREATED;
    return db.prisma.pipeline.create({
      data: {
        tenantId,
        name: 'p',
        slug: `p-${randomBytes(4).toString('hex')}`,
        config,
        createdAt,
        updatedAt: createdAt,
        defaultBranch: data.defaultBranch ?? 'main',
      },
    });
  }

  async function scheduleJobs(pipelineId: string) {
    const { rows } = await db.pool.query<{ id: string; dedupe_key: string; payload: { pipelineId: string; slot: string; runId?: string }; status: string }>(
      `SELECT id::text, dedupe_key, payload, status::text FROM jobs WHERE kind = $1 AND payload->>'pipelineId' = $2 ORDER BY payload->>'slot'`,
      [SCHEDULE_JOB_KIND, pipelineId],
    );
    return rows;
  }

  /** Only this test's pipelines: the others in the database are ignored by the assertions. */
  const slotsOf = (result: Awaited<ReturnType<Scheduler['tick']>>, pipelineId: string) =>
    result.fired.filter((f) => f.pipelineId === pipelineId).map((f) => f.slot.toISOString());

  test('due slots with an injected clock: every minute, and one run for a missed stretch after downtime', async () => {
    const p = await pipeline(kdl('* * * * *'));
    let clock = at('2026-01-01T10:00:10Z');
    const s1 = scheduler({ now: () => clock });

    // First tick after an election: catch up on the latest slot only (10:00), not every minute since creation.
    assert.deepEqual(slotsOf(await s1.tick(), p.id), ['2026-01-01T10:00:00.000Z']);
    clock = at('2026-01-01T10:00:25Z');
    assert.deepEqual(slotsOf(await s1.tick(), p.id), []);
    clock = at('2026-01-01T10:01:00Z');
    assert.deepEqual(slotsOf(await s1.tick(), p.id), ['2026-01-01T10:01:00.000Z']);
    clock = at('2026-01-01T10:01:15Z');
    assert.deepEqual(slotsOf(await s1.tick(), p.id), []);

    // Downtime 10:01:15 → 10:07:40 (the same scheduler): one slot, the latest.
    clock = at('2026-01-01T10:07:40Z');
    const resumed = await s1.tick();
    assert.deepEqual(slotsOf(resumed, p.id), ['2026-01-01T10:07:00.000Z']);
    assert.equal(resumed.after.toISOString(), '2026-01-01T10:01:15.000Z');

    // A failover to a fresh scheduler after more downtime: again only the latest slot; an already
    // enqueued slot is not enqueued twice.
    clock = at('2026-01-01T10:12:05Z');
    const s2 = scheduler({ now: () => clock });
    assert.deepEqual(slotsOf(await s2.tick(), p.id), ['2026-01-01T10:12:00.000Z']);
    const again = scheduler({ now: () => clock });
    const repeat = (await again.tick()).fired.filter((f) => f.pipelineId === p.id);
    assert.deepEqual(
      repeat.map((f) => [f.slot.toISOString(), f.created]),
      [['2026-01-01T10:12:00.000Z', false]],
    );

    const jobs = await scheduleJobs(p.id);
    assert.deepEqual(
      jobs.map((j) => j.dedupe_key),
      ['10:00', '10:01', '10:07', '10:12'].map((hm) => scheduleDedupeKey(p.id, at(`2026-01-01T${hm}:00Z`))),
    );

    // One run per slot.
    const { log } = captureLog();
    for (const job of jobs) assert.equal((await runScheduleJob({ prisma: db.prisma }, job, log)).status, 'created');
    assert.equal(await db.prisma.pipelineRun.count({ where: { pipelineId: p.id, event: 'schedule' } }), 4);
  });

  test('slots before the pipeline existed never fire; a daily cron fires once a day, at its time', async () => {
    let clock = at('2026-03-10T12:00:00Z');
    const p = await pipeline(kdl('0 3 * * *'), { createdAt: at('2026-03-10T11:00:00Z') });
    const s = scheduler({ now: () => clock });
    assert.deepEqual(slotsOf(await s.tick(), p.id), [], 'today 03:00 is before the pipeline was created');
    clock = at('2026-03-11T02:59:55Z');
    assert.deepEqual(slotsOf(await s.tick(), p.id), []);
    clock = at('2026-03-11T03:00:10Z');
    assert.deepEqual(slotsOf(await s.tick(), p.id), ['2026-03-11T03:00:00.000Z']);
    clock = at('2026-03-11T03:00:25Z');
    assert.deepEqual(slotsOf(await s.tick(), p.id), []);
  });

  test('a schedule added to an existing pipeline does not fire the slot it would have had earlier that day', async () => {
    const unscheduled = kdl('0 3 * * *').replace(/^ *on "schedule".*\n/m, '');
    assert.doesNotMatch(unscheduled, /schedule/);
    const p = await pipeline(unscheduled);
    const added = at('2026-03-10T12:00:00Z');
    await db.prisma.pipeline.update({ where: { id: p.id }, data: { config: kdl('0 3 * * *'), updatedAt: added } });
    let clock = at('2026-03-10T12:00:20Z');
    const s = scheduler({ now: () => clock });
    assert.deepEqual(slotsOf(await s.tick(), p.id), [], 'today 03:00 was before the schedule existed');
    // A failover the next morning after a missed 03:00: that slot is caught up.
    clock = at('2026-03-11T03:20:00Z');
    assert.deepEqual(slotsOf(await scheduler({ now: () => clock }).tick(), p.id), ['2026-03-11T03:00:00.000Z']);
  });

  test('an edit right after a slot does not drop it for a scheduler that is ticking', async () => {
    const p = await pipeline(kdl('0 * * * *'));
    let clock = at('2026-03-10T09:59:50Z');
    const s = scheduler({ now: () => clock });
    await s.tick();
    await db.prisma.pipeline.update({ where: { id: p.id }, data: { name: 'renamed', updatedAt: at('2026-03-10T10:00:01Z') } });
    clock = at('2026-03-10T10:00:05Z');
    assert.deepEqual(slotsOf(await s.tick(), p.id), ['2026-03-10T10:00:00.000Z']);
  });

  test('a scheduled run: event schedule, the default branch, triggeredBy schedule, its stages (through a JobRunner)', async () => {
    const p = await pipeline(kdl('*/5 * * * *'), { defaultBranch: 'trunk' });
    const clock = at('2026-01-02T08:05:03Z');
    const s = scheduler({ now: () => clock });
    const { log, lines } = captureLog();
    const runner = new JobRunner({
      pool: db.pool,
      workerId: 'schedule-test',
      // Only `schedule` jobs: the `run` jobs the scheduled runs enqueue stay queued.
      kinds: [SCHEDULE_JOB_KIND],
      handlers: { [SCHEDULE_JOB_KIND]: createScheduleHandler({ prisma: db.prisma, log }) },
      pollMs: 100,
    });
    await runner.start();
    try {
      await s.tick();
      const run = await waitFor('the scheduled run', () =>
        db.prisma.pipelineRun.findFirst({ where: { pipelineId: p.id }, include: { stages: { orderBy: { stageId: 'asc' } } } }),
      );
      assert.equal(run.event, 'schedule');
      assert.equal(run.branch, 'trunk');
      assert.equal(run.triggeredBy, 'schedule');
      assert.equal(run.triggeredById, null);
      assert.equal(run.status, 'queued');
      assert.equal(run.number, 1);
      assert.equal(run.configSource, p.config);
      assert.deepEqual(
        run.stages.map((st) => [st.stageId, st.status, st.needs]),
        [
          ['build', 'pending', []],
          ['test', 'pending', ['build']],
        ],
      );
      const runJob = await db.prisma.job.findUnique({ where: { dedupeKey: `run:${run.id}` } });
      assert.equal(runJob?.kind, 'run');

      const [job] = await scheduleJobs(p.id);
      await waitFor('the schedule job to succeed', async () => (await db.prisma.job.findUnique({ where: { id: job!.id } }))?.status === 'succeeded');
      const [done] = await scheduleJobs(p.id);
      assert.equal(done?.payload.runId, run.id);
      assert.equal(done?.payload.slot, '2026-01-02T08:05:00.000Z');
      const audit = await db.prisma.auditLog.findFirst({ where: { targetId: run.id } });
      assert.equal(audit?.action, 'run.trigger');
      assert.equal(audit?.actorUserId, null);
      assert.ok(lines.some((l) => l.msg === 'scheduled run created' && l.runId === run.id));

      // The job executed once more (crash after commit, lease lost): no second run.
      assert.deepEqual(await runScheduleJob({ prisma: db.prisma }, done!, log), { status: 'exists', runId: run.id });
      assert.equal(await db.prisma.pipelineRun.count({ where: { pipelineId: p.id } }), 1);
    } finally {
      await runner.stop({ graceMs: 1_000 });
    }
  });

  test('two schedulers ticking the same slots at once (election bypassed): exactly one job and one run per slot', async () => {
    const pipelines = await Promise.all([1, 2, 3, 4, 5].map(() => pipeline(kdl('* * * * *'))));
    let clock = at('2026-01-03T00:00:05Z');
    const a = scheduler({ now: () => clock });
    const b = scheduler({ now: () => clock });
    for (const t of ['00:00:05', '00:00:20', '00:01:00', '00:01:00', '00:02:01', '00:09:30']) {
      clock = at(`2026-01-03T${t}Z`);
      const [ra, rb] = await Promise.all([a.tick(), b.tick()]);
      assert.equal(ra.failures + rb.failures, 0);
      // Where both saw a due slot, exactly one of them created the job.
      for (const p of pipelines) {
        const fa = ra.fired.find((f) => f.pipelineId === p.id);
        const fb = rb.fired.find((f) => f.pipelineId === p.id);
        if (fa && fb) {
          assert.equal(fa.jobId, fb.jobId);
          assert.equal(Number(fa.created) + Number(fb.created), 1, `${t}: one creation for ${p.id}`);
        }
      }
    }
    const { log } = captureLog();
    for (const p of pipelines) {
      const jobs = await scheduleJobs(p.id);
      assert.deepEqual(
        jobs.map((j) => j.payload.slot),
        ['00:00', '00:01', '00:02', '00:09'].map((hm) => `2026-01-03T${hm}:00.000Z`),
      );
      // Every job executed twice at the same time (a takeover racing the first execution): one run each.
      const outcomes = await Promise.all(
        jobs.flatMap((job) => [runScheduleJob({ prisma: db.prisma }, job, log), runScheduleJob({ prisma: db.prisma }, job, log)]),
      );
      assert.equal(outcomes.filter((o) => o.status === 'created').length, 4);
      assert.equal(outcomes.filter((o) => o.status === 'exists').length, 4);
      const runs = await db.prisma.pipelineRun.findMany({ where: { pipelineId: p.id }, orderBy: { number: 'asc' } });
      assert.deepEqual(
        runs.map((r) => r.number),
        [1, 2, 3, 4],
      );
    }
  });

  test('an invalid stored config is skipped with a warning; the other pipelines still fire', async () => {
    const broken = await pipeline('pipeline "x" {\n    on "schedule" cron="* * * * *"\n}\nstage "a" { bogus-node }\n');
    const unparsable = await pipeline('pipeline "x" { on "schedule" cron="* * * * *" ');
    const badCron = await pipeline(kdl('61 * * * *'));
    const good = await pipeline(kdl('* * * * *'));
    const { log, lines } = captureLog();
    let clock = at('2026-01-04T00:00:05Z');
    const s = scheduler({ now: () => clock, log });
    const result = await s.tick();
    assert.deepEqual(slotsOf(result, good.id), ['2026-01-04T00:00:00.000Z']);
    for (const bad of [broken, unparsable, badCron]) {
      assert.deepEqual(slotsOf(result, bad.id), []);
      assert.equal(lines.filter((l) => l.pipelineId === bad.id && l.level === 40).length, 1, `one warning for ${bad.id}`);
    }
    // Cached per config version: no new warning on the next tick; a fixed config is picked up.
    await db.prisma.pipeline.update({ where: { id: broken.id }, data: { config: kdl('* * * * *') } });
    clock = at('2026-01-04T00:01:05Z');
    const next = await s.tick();
    assert.deepEqual(slotsOf(next, good.id), ['2026-01-04T00:01:00.000Z']);
    assert.deepEqual(slotsOf(next, broken.id), ['2026-01-04T00:01:00.000Z']);
    assert.equal(lines.filter((l) => l.level === 40 && [unparsable.id, badCron.id].includes(l.pipelineId as string)).length, 2);
  });

  test('archived pipelines and pipelines without a schedule do not fire', async () => {
    const archived = await pipeline(kdl('* * * * *'));
    await db.prisma.pipeline.update({ where: { id: archived.id }, data: { archivedAt: new Date() } });
    const pushOnly = await pipeline('pipeline "x" {\n    on "push"\n}\nstage "a" {\n    executor "local"\n    run "true"\n}\n');
    const s = scheduler({ now: () => at('2026-01-05T00:00:05Z') });
    const result = await s.tick();
    assert.deepEqual(slotsOf(result, archived.id), []);
    assert.deepEqual(slotsOf(result, pushOnly.id), []);
  });

  test('a slot whose pipeline no longer matches (schedule removed, plan error) is skipped with a warning, not retried', async () => {
    const removed = await pipeline(kdl('* * * * *'));
    const needsVar = await pipeline(kdl('* * * * *', 'variable "region"'));
    const s = scheduler({ now: () => at('2026-01-06T00:00:05Z') });
    await s.tick();
    // The schedule is removed between the tick and the job.
    await db.prisma.pipeline.update({
      where: { id: removed.id },
      data: { config: 'pipeline "x" {\n    on "push"\n}\nstage "a" {\n    executor "local"\n    run "true"\n}\n' },
    });
    const { log, lines } = captureLog();
    const [removedJob] = await scheduleJobs(removed.id);
    const [varJob] = await scheduleJobs(needsVar.id);
    const r1 = await runScheduleJob({ prisma: db.prisma }, removedJob!, log);
    const r2 = await runScheduleJob({ prisma: db.prisma }, varJob!, log);
    assert.equal(r1.status, 'skipped');
    assert.match(r1.status === 'skipped' ? r1.reason : '', /no longer runs on schedule/);
    assert.equal(r2.status, 'skipped');
    assert.match(r2.status === 'skipped' ? r2.reason : '', /variable "region" is required/);
    assert.equal(lines.filter((l) => l.level === 40 && l.msg === 'scheduled run skipped').length, 2);
    assert.equal(await db.prisma.pipelineRun.count({ where: { pipelineId: { in: [removed.id, needsVar.id] } } }), 0);
    // The failed plan rolled back the run number.
    assert.equal((await db.prisma.pipeline.findUniqueOrThrow({ where: { id: needsVar.id } })).nextRunNumber, 1);
  });
});

describe('scheduler election', () => {
  let db: TestDatabase;
  const schedulers: Scheduler[] = [];
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await Promise.all(schedulers.map((s) => s.stop()));
    await db?.drop();
  });

  function scheduler(): Scheduler {
    const s = new Scheduler({ pool: db.pool, prisma: db.prisma, electionRetryMs: 100, tickMs: 60_000 });
    schedulers.push(s);
    return s;
  }

  async function lockHolders(): Promise<number[]> {
    const { rows } = await db.pool.query<{ pid: number }>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND objsubid = 2 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [...SCHEDULER_LOCK],
    );
    return rows.map((r) => r.pid);
  }

  test('two schedulers at once: one elected; its connection killed: the other takes over; stop releases the lock', async () => {
    const a = scheduler();
    const b = scheduler();
    const ticks: string[] = [];
    a.on('tick', () => ticks.push('a'));
    b.on('tick', () => ticks.push('b'));
    await Promise.all([a.start(), b.start()]);
    await waitFor('an elected scheduler', () => a.isLeader || b.isLeader);
    await sleep(400); // several election retries of the other one
    assert.equal(Number(a.isLeader) + Number(b.isLeader), 1, 'exactly one elected');
    const [leader, other] = a.isLeader ? [a, b] : [b, a];
    assert.equal((await lockHolders()).length, 1);
    // The elected one ticked right away; the other never.
    await waitFor('the first tick', () => ticks.length > 0);
    assert.ok(
      ticks.every((t) => t === (a.isLeader ? 'a' : 'b')),
      ticks.join(','),
    );

    // Kill the elected one's lock connection: PostgreSQL drops the lock with it.
    const demoted = new Promise<string>((resolve) => leader.once('demoted', resolve));
    const [pid] = await lockHolders();
    await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    assert.match(await demoted, /lock connection lost/);
    await waitFor('the other to take over', () => other.isLeader);
    await sleep(400);
    assert.equal(leader.isLeader, false, 'the old leader does not get it back while the other holds it');
    const holders = await lockHolders();
    assert.equal(holders.length, 1);
    assert.notEqual(holders[0], pid);

    // A graceful stop releases the lock at once: the first one takes over again.
    await other.stop();
    await waitFor('the first to be elected again', () => leader.isLeader);
    await leader.stop();
    assert.deepEqual(await lockHolders(), []);
  });

  test('a scheduler that cannot reach the database is not elected and keeps trying, without crashing', async () => {
    const { log, lines } = captureLog();
    const s = new Scheduler({
      pool: db.pool,
      prisma: db.prisma,
      electionRetryMs: 50,
      tickMs: 60_000,
      log,
      connection: { connectionString: 'postgres://nobody@127.0.0.1:1/none' },
    });
    schedulers.push(s);
    await s.start();
    assert.equal(s.isLeader, false);
    await waitFor('a few attempts', () => lines.filter((l) => l.msg === 'scheduler election attempt failed; retrying').length >= 3);
    await s.stop();
  });
});
