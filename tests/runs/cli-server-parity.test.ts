// "buildit run runs a pipeline locally exactly as the server would": every example, plus one that runs
// to the end in containers, through `buildit run` (the real binary) and through the server's run job
// (real PostgreSQL, real Docker engine): each stage ends with the same status on the same executor and
// prints the same log lines.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { triggerRun } from '../../lib/api/services/runs';
import { setSecret } from '../../lib/api/services/secrets';
import type { RunEvent } from '../../lib/events/types';
import { loadPipeline, plan, type TriggerEvent } from '../../lib/pipeline';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { dockerOrSkip, TEST_IMAGE } from '../support/engines';
import { RecordingPublisher, runJob, seedTenant, storedLog, type Seeded } from './helpers';
import { runPipelineJob } from '../../worker/jobs/run-pipeline';
import { noStackRunnerReason } from '../../lib/engine/orchestrator/stack-stage';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'cli/bin.mjs');
const SHA = '0a1b2c3d4e5f60718293a4b5c6d7e8f901234567';
/** The secrets the examples declare: given to `buildit run` with --secret, and set in the server's tenant. */
const SECRETS: Record<string, string> = { NPM_TOKEN: 'npm-token-of-the-parity-test', SMOKE_API_KEY: 'smoke-key-of-the-parity-test' };
// The server encrypts the tenant's secrets: a key of this test's own.
process.env.BUILDIT_SECRET_KEY = randomBytes(32).toString('base64');

/** Runs to the end in containers: logs, artifacts, a cache, a failure, a skip, a deploy that cannot run. */
const CONTAINER_PIPELINE = `pipeline "parity" {
    on "push" branches="main"
}
variable "greeting" default="hello; echo not-a-command"
cache "deps" key="deps-\${git.branch}" path="/deps"
stage "build" {
    image "${TEST_IMAGE}"
    cache "deps"
    run "echo \\"\${var.greeting} from \${git.branch}\\"; mkdir -p out; echo built > out/app.txt"
    artifacts "out/**"
}
// Alone in its stage: the order of a stdout line and a stderr line is not kept by any engine's log stream.
stage "warn" {
    image "${TEST_IMAGE}"
    run "echo to-stderr >&2"
}
stage "test" needs="build" {
    image "${TEST_IMAGE}"
    run "cat out/app.txt; exit 3"
    allow-failure
}
stage "lint" {
    executor "local"
    run "echo on the host"
}
stage "ship" needs="test" { deploy environment="staging" service="web"; }
stage "after-ship" needs="ship" {
    image "${TEST_IMAGE}"
    run "echo never"
}
`;

interface StageView {
  status: string;
  reason: string | null;
  executor: string | null;
  lines: string[];
}

/**
 * Approvals are the one thing the two ask for differently (a terminal vs the web), so only their gist is
 * compared; and which of several failing needs is named first depends on which finished first. Stack stages
 * exist only on a server: `buildit run` fails them, the server's (on stacks of this test, with no configuration
 * uploaded) fail to queue their run; their gist is compared too.
 */
function comparable(reason: string | null | undefined): string | null {
  if (reason?.startsWith('approval required')) return 'approval required';
  if (reason?.startsWith(noStackRunnerReason({ name: '', action: '' }).split(':')[0]!)) return 'stack stage not run';
  if (reason?.startsWith('could not queue a run of stack')) return 'stack stage not run';
  return reason?.replace(/^needs "[^"]+" /, 'needs "…" ') ?? null;
}

let db: TestDatabase;
let seeded: Seeded;
let scratch: string;

before(async () => {
  db = await createTestDatabase();
  seeded = await seedTenant(db.prisma);
  for (const [name, value] of Object.entries(SECRETS)) await setSecret(db.prisma, seeded.actor, seeded.tenantId, name, { value }, null);
  scratch = mkdtempSync(path.join(os.tmpdir(), 'buildit-parity-'));
});

after(async () => {
  await db?.drop();
  rmSync(scratch, { recursive: true, force: true });
});

/** Push to main when the pipeline runs for it, else a manual run: the same trigger on both sides. */
function eventFor(kdl: string): TriggerEvent {
  const { spec } = loadPipeline(kdl, 'p.kdl');
  return plan(spec!, { event: 'push', branch: 'main', sha: SHA, runId: 'r', runNumber: 1 }).triggered ? 'push' : 'manual';
}

function throughCli(name: string, kdl: string, event: TriggerEvent): Record<string, StageView> {
  const dir = mkdtempSync(path.join(scratch, `cli-${name}-`));
  const file = path.join(scratch, `${name}.kdl`);
  writeFileSync(file, kdl);
  const secrets = Object.entries(SECRETS).flatMap(([name, value]) => ['--secret', `${name}=${value}`]);
  const result = spawnSync(process.execPath, [BIN, 'run', file, '--json', '--event', event, '--branch', 'main', '--sha', SHA, ...secrets], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, BUILDIT_CACHE_DIR: path.join(dir, '.caches'), NO_COLOR: '1' },
    timeout: 120_000,
  });
  assert.ok(result.status === 0 || result.status === 1, `${name}: buildit run exited ${result.status}: ${result.stderr}`);
  const views: Record<string, StageView> = {};
  const view = (stage: string) => (views[stage] ??= { status: 'pending', reason: null, executor: null, lines: [] });
  for (const line of result.stdout.split('\n').filter(Boolean)) {
    const event = JSON.parse(line) as RunEvent;
    if (event.type === 'stage.started') view(event.stage).executor = event.executor;
    else if (event.type === 'stage.log') view(event.stage).lines.push(comparable(event.line)!);
    else if (event.type === 'stage.finished') Object.assign(view(event.stage), { status: event.status, reason: comparable(event.reason) });
  }
  return views;
}

async function throughServer(name: string, kdl: string, event: TriggerEvent): Promise<Record<string, StageView>> {
  const pipeline = await db.prisma.pipeline.create({ data: { tenantId: seeded.tenantId, name, slug: name, config: kdl } });
  // The stacks the example names, so that the server accepts it (stack stages: see comparable()).
  for (const stage of loadPipeline(kdl, 'p.kdl').spec!.stages) {
    const slug = stage.stack?.name.value;
    if (slug !== undefined)
      await db.prisma.stack.upsert({
        where: { tenantId_slug: { tenantId: seeded.tenantId, slug } },
        create: { tenantId: seeded.tenantId, name: slug, slug },
        update: {},
      });
  }
  const run = await triggerRun(db.prisma, seeded.actor, pipeline.id, { event, branch: 'main', sha: SHA, variables: {} }, null);
  await runPipelineJob(
    runJob(run.id),
    { signal: new AbortController().signal },
    {
      prisma: db.prisma,
      publisher: new RecordingPublisher(db.prisma),
      dataDir: path.join(scratch, `server-${name}`),
      logger: pino({ level: 'silent' }),
      // An operator's worker that allows host stages, as `buildit run` does on a laptop.
      executorNames: ['docker', 'local'],
    },
  );
  const views: Record<string, StageView> = {};
  for (const row of await db.prisma.stageRun.findMany({ where: { runId: run.id } })) {
    views[row.stageId] = {
      status: row.status,
      reason: comparable(row.reason),
      executor: row.startedAt ? row.executor : null,
      lines: (await storedLog(db.prisma, row.id)).lines.map((line) => comparable(line)!),
    };
  }
  return views;
}

const pipelines: Array<[string, string]> = [
  ...readdirSync(path.join(ROOT, 'examples'))
    .filter((file) => file.endsWith('.kdl'))
    .map((file): [string, string] => [path.basename(file, '.kdl'), readFileSync(path.join(ROOT, 'examples', file), 'utf8')]),
  ['containers', CONTAINER_PIPELINE],
];

for (const [name, kdl] of pipelines) {
  test(`${name}: buildit run and the server give the same executors, statuses and logs`, async (t) => {
    if (!(await dockerOrSkip(t))) return;
    const event = eventFor(kdl);
    const cli = throughCli(name, kdl, event);
    const server = await throughServer(name, kdl, event);
    assert.deepEqual(cli, server);
    if (name === 'containers') {
      // The comparison above must not pass by both sides doing nothing.
      assert.deepEqual(Object.fromEntries(Object.entries(server).map(([id, view]) => [id, [view.status, view.executor]])), {
        build: ['succeeded', 'docker'],
        warn: ['succeeded', 'docker'],
        test: ['failed', 'docker'],
        lint: ['succeeded', 'local'],
        ship: ['failed', null],
        'after-ship': ['skipped', null],
      });
      assert.ok(server.build!.lines.includes('hello; echo not-a-command from main'), server.build!.lines.join('\n'));
      assert.deepEqual(server.warn!.lines, ['to-stderr']);
      assert.deepEqual(server.test!.lines, ['built']);
    }
  });
}
