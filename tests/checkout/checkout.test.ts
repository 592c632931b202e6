// Checkout (issue 13) with real git and the real Docker engine: repositories made here, served by
// `git daemon` on 127.0.0.1 and by file://; runs triggered through the API's service and executed by the
// worker's `run` job (docker executor; local for `git rev-parse`, since the test image has no git).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { rerunRun, triggerRun } from '../../lib/api/services/runs';
import { ApiError } from '../../lib/api/errors';
import { withSecretKeys, writeSecret } from '../../lib/secrets/store';
import { gitCredentials, repositoryUrlProblem } from '../../lib/source/git';
import { MirrorStore } from '../../lib/source/mirror';
import { enqueueJob } from '../../lib/queue/enqueue';
import { runPipelineJob, type RunPipelineDeps } from '../../worker/jobs/run-pipeline';
import { runScheduleJob } from '../../worker/jobs/schedule';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { dockerOrSkip, TEST_IMAGE } from '../support/engines';
import { RecordingPublisher, runJob, seedTenant, storedLog, type Seeded } from '../runs/helpers';
import { commitFiles, createRepository, freePort, git, startGitDaemon, type GitDaemon } from './support';

let db: TestDatabase;
let seeded: Seeded;
let dataDir: string;
let reposDir: string;
let daemon: GitDaemon;
const silent = pino({ level: 'silent' });
const neverAborted = { signal: new AbortController().signal };

const kdl = (stages: string) => `pipeline "app" {\n    on "manual"\n}\n${stages}`;
const SHOW = kdl(`
stage "show" {
    image "${TEST_IMAGE}"
    run "cat .git/HEAD"
    run "cat hello.txt"
}
stage "rev" {
    executor "local"
    run "git rev-parse HEAD"
}
`);

before(async () => {
  db = await createTestDatabase();
  seeded = await seedTenant(db.prisma);
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'buildit-checkout-'));
  reposDir = path.join(dataDir, 'repos');
  process.env.BUILDIT_DATA_DIR = dataDir; // the trigger's mirror (lib/source/trigger.ts) and the worker share it
  process.env.BUILDIT_FILE_REPOSITORIES = 'on'; // some repositories here are file:// (off by default)
  daemon = await startGitDaemon(reposDir);
});

after(async () => {
  await daemon?.stop();
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

function deps(extra: Partial<RunPipelineDeps> = {}): RunPipelineDeps {
  return {
    prisma: db.prisma,
    publisher: new RecordingPublisher(db.prisma),
    dataDir,
    cancelPollMs: 200,
    logger: silent,
    executorNames: ['docker', 'local'],
    ...extra,
  };
}

let counter = 0;
async function newPipeline(data: { repository: string; config?: string | null; credentialsSecret?: string; cloneDepth?: number }) {
  return db.prisma.pipeline.create({
    data: { tenantId: seeded.tenantId, name: 'app', slug: `app-${++counter}`, config: null, ...data },
  });
}

async function logOf(runId: string, stageId: string): Promise<string> {
  const row = await db.prisma.stageRun.findFirstOrThrow({ where: { runId, stageId } });
  return (await storedLog(db.prisma, row.id)).text;
}

async function execute(runId: string) {
  const outcome = await runPipelineJob(runJob(runId), neverAborted, deps());
  assert.equal(outcome.kind, 'ran');
  return db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId }, include: { stages: true } });
}

describe('checkout from a git daemon', () => {
  let repo: string;
  let first: string;
  let pipelineId: string;

  before(async () => {
    repo = path.join(reposDir, 'app.git');
    first = createRepository(repo, { 'buildit.kdl': SHOW, 'hello.txt': 'hello from the first commit\n' }, 'first commit\n\nwith a body');
    pipelineId = (await newPipeline({ repository: daemon.url('app.git') })).id;
  });

  test('a trigger with a branch resolves its head once; every stage sees that commit and its files', async (t) => {
    if (!(await dockerOrSkip(t))) return;
    const run = await triggerRun(db.prisma, seeded.actor, pipelineId, { event: 'manual', variables: {} }, null);
    assert.equal(run.commitSha, first, 'the branch head is stored on the run at trigger time');
    assert.ok(
      run.stages.some((s) => s.stageId === '@checkout' && s.name === 'checkout' && s.status === 'pending'),
      'the checkout is an entry of the run',
    );
    const done = await execute(run.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.stages.map((s) => [s.stageId, s.status, s.reason])));
    const show = await logOf(run.id, 'show');
    assert.match(show, new RegExp(`^${first}$`, 'm'), 'the container sees the commit (.git/HEAD, detached)');
    assert.match(show, /hello from the first commit/);
    assert.match(await logOf(run.id, 'rev'), new RegExp(`^${first}$`, 'm'), 'git rev-parse HEAD in the workspace');
    const checkout = done.stages.find((s) => s.stageId === '@checkout')!;
    assert.equal(checkout.status, 'succeeded');
    assert.ok(checkout.startedAt && checkout.finishedAt);
    assert.match(await logOf(run.id, '@checkout'), new RegExp(`checked out ${first}`));
    assert.equal(done.commitMessage, 'first commit', 'the first line of the message');
    assert.equal(done.commitAuthor, 'Ada Tester <ada@example.test>');
  });

  test('a re-run uses the same commit after the branch moved; the next trigger takes the new head and its buildit.kdl', async (t) => {
    if (!(await dockerOrSkip(t))) return;
    const old = await db.prisma.pipelineRun.findFirstOrThrow({ where: { pipelineId }, orderBy: { number: 'desc' } });
    const second = commitFiles(
      repo,
      {
        'hello.txt': 'hello from the second commit\n',
        'buildit.kdl': kdl(`stage "renamed" {\n    image "${TEST_IMAGE}"\n    run "cat hello.txt"\n}\n`),
      },
      'second commit',
    );
    const rerun = await rerunRun(db.prisma, seeded.actor, old.id, { failedOnly: false }, null);
    assert.equal(rerun.commitSha, first);
    const rerunDone = await execute(rerun.id);
    assert.equal(rerunDone.status, 'succeeded');
    assert.match(await logOf(rerun.id, 'show'), /hello from the first commit/);

    const next = await triggerRun(db.prisma, seeded.actor, pipelineId, { event: 'manual', variables: {} }, null);
    assert.equal(next.commitSha, second);
    assert.deepEqual(next.stages.map((s) => s.stageId).sort(), ['@checkout', 'renamed'], 'planned from buildit.kdl of the new commit');
    const nextDone = await execute(next.id);
    assert.equal(nextDone.status, 'succeeded');
    assert.match(await logOf(next.id, 'renamed'), /hello from the second commit/);
    assert.match(await logOf(next.id, '@checkout'), /already has|git fetch/);
  });

  test('an invalid buildit.kdl at the commit: the run is created failed with the diagnostics as its log', async () => {
    const bad = commitFiles(repo, { 'buildit.kdl': 'pipeline "app" {\n    on "manual"\n}\nstage "x" {\n    nonsense 1\n}\n' }, 'break the pipeline');
    const run = await triggerRun(db.prisma, seeded.actor, pipelineId, { event: 'manual', variables: {} }, null);
    assert.equal(run.status, 'failed');
    assert.equal(run.commitSha, bad);
    const entry = run.stages.find((s) => s.stageId === '@config');
    assert.ok(entry, 'a config entry holds the diagnostics');
    assert.match(entry.reason ?? '', /buildit\.kdl at [0-9a-f]{40} is invalid/);
    assert.match(await logOf(run.id, '@config'), /^buildit\.kdl:5:\d+: error: /m);
    assert.equal(await db.prisma.job.count({ where: { dedupeKey: `run:${run.id}` } }), 0, 'nothing to execute');
    commitFiles(repo, { 'buildit.kdl': SHOW }, 'fix the pipeline');
  });

  test("an unknown branch is a 422 naming it with git's words", async () => {
    await assert.rejects(
      triggerRun(db.prisma, seeded.actor, pipelineId, { event: 'manual', branch: 'nope', variables: {} }, null),
      (error: unknown) => error instanceof ApiError && error.status === 422 && /branch "nope"/.test(error.message) && /does not exist/.test(error.message),
    );
  });

  test('an unknown sha fails the checkout, and the run, with the hint', async () => {
    const stored = await newPipeline({ repository: daemon.url('app.git'), config: SHOW });
    const run = await triggerRun(db.prisma, seeded.actor, stored.id, { event: 'manual', sha: 'deadbeef'.repeat(5), variables: {} }, null);
    const done = await execute(run.id);
    assert.equal(done.status, 'failed');
    const checkout = done.stages.find((s) => s.stageId === '@checkout')!;
    assert.equal(checkout.status, 'failed');
    assert.match(checkout.reason ?? '', /unknown ref: check the branch, tag or sha/);
    assert.match(await logOf(run.id, '@checkout'), /hint: unknown ref/);
    for (const stage of done.stages.filter((s) => !s.stageId.startsWith('@'))) {
      assert.equal(stage.status, 'skipped');
      assert.equal(stage.reason, 'the checkout failed');
    }
  });
});

test("a scheduled run of a pipeline with a repository checks out its default branch's head, resolved when it starts", async (t) => {
  if (!(await dockerOrSkip(t))) return;
  const head = createRepository(path.join(reposDir, 'nightly.git'), { 'hello.txt': 'hello from the nightly branch\n' });
  const scheduled = `pipeline "nightly" {\n    on "schedule" cron="0 3 * * *"\n}\nstage "show" {\n    image "${TEST_IMAGE}"\n    run "cat .git/HEAD hello.txt"\n}\n`;
  const pipeline = await newPipeline({ repository: daemon.url('nightly.git'), config: scheduled });
  const job = await enqueueJob(db.pool, { kind: 'schedule', payload: { pipelineId: pipeline.id, slot: '2026-01-01T03:00:00.000Z' } });
  const outcome = await runScheduleJob({ prisma: db.prisma }, { id: job.id, payload: { pipelineId: pipeline.id, slot: '2026-01-01T03:00:00.000Z' } }, silent);
  assert.equal(outcome.status, 'created');
  const runId = outcome.status === 'created' ? outcome.runId : '';
  const done = await execute(runId);
  assert.equal(done.status, 'succeeded', JSON.stringify(done.stages.map((s) => [s.stageId, s.status, s.reason])));
  assert.equal(done.commitSha, head, 'the head is stored on the run, for re-runs');
  const show = await logOf(runId, 'show');
  assert.match(show, new RegExp(`^${head}$`, 'm'));
  assert.match(show, /hello from the nightly branch/);
});

test('submodules: checked out recursively when the pipeline asks, left out otherwise', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  createRepository(path.join(reposDir, 'library.git'), { 'lib.txt': 'from the submodule\n' });
  const main = path.join(reposDir, 'with-submodule.git');
  createRepository(main, { 'hello.txt': 'main repository\n' });
  git(main, 'submodule', 'add', '--quiet', daemon.url('library.git'), 'library');
  git(main, 'commit', '--quiet', '-m', 'add the library');
  const config = kdl(`stage "show" {\n    image "${TEST_IMAGE}"\n    run "cat hello.txt; cat library/lib.txt || echo no-submodule"\n}\n`);
  for (const submodules of [true, false]) {
    const pipeline = await db.prisma.pipeline.create({
      data: { tenantId: seeded.tenantId, name: 'sub', slug: `sub-${++counter}`, repository: daemon.url('with-submodule.git'), config, submodules },
    });
    const run = await triggerRun(db.prisma, seeded.actor, pipeline.id, { event: 'manual', variables: {} }, null);
    const done = await execute(run.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.stages.map((s) => [s.stageId, s.status, s.reason])));
    const show = await logOf(run.id, 'show');
    if (submodules) assert.match(show, /^from the submodule$/m);
    else assert.match(show, /^no-submodule$/m);
  }
});

test('file:// repositories are off unless the operator turns them on: refused when saved, and a stored one when triggered', async () => {
  const repo = path.join(reposDir, 'local-only.git');
  createRepository(repo, { 'hello.txt': 'on the host\n' });
  const pipeline = await newPipeline({ repository: `file://${repo}`, config: SHOW });
  process.env.BUILDIT_FILE_REPOSITORIES = 'off';
  try {
    assert.match(repositoryUrlProblem(`file://${repo}`) ?? '', /file:\/\/ repositories are off on this server.*BUILDIT_FILE_REPOSITORIES=on/);
    assert.equal(repositoryUrlProblem(daemon.url('app.git')), null, 'other URLs are not affected');
    await assert.rejects(
      triggerRun(db.prisma, seeded.actor, pipeline.id, { event: 'manual', variables: {} }, null),
      (error: unknown) => error instanceof ApiError && error.status === 422 && /BUILDIT_FILE_REPOSITORIES=on/.test(error.message),
    );
    assert.equal(await db.prisma.pipelineRun.count({ where: { pipelineId: pipeline.id } }), 0, 'no run');
  } finally {
    process.env.BUILDIT_FILE_REPOSITORIES = 'on';
  }
});

test('an unreachable repository fails the run with the hint', async () => {
  const port = await freePort(); // nothing listens there
  const pipeline = await newPipeline({ repository: `git://127.0.0.1:${port}/gone.git`, config: SHOW });
  const run = await triggerRun(db.prisma, seeded.actor, pipeline.id, { event: 'manual', sha: 'a'.repeat(40), variables: {} }, null);
  const done = await execute(run.id);
  assert.equal(done.status, 'failed');
  const checkout = done.stages.find((s) => s.stageId === '@checkout')!;
  assert.match(checkout.reason ?? '', /unreachable from the worker/);
  assert.match(await logOf(run.id, '@checkout'), /Connection refused|unable to connect/);
});

describe('credentials never leak', () => {
  const TOKEN = 'tok_SuperSecret_0123456789abcdef';
  const KEY =
    '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACBmYWtlLWtleS1mb3ItdGVzdHMtb25seS1ub3QtcmVhbC1hdC1hbGw=\n-----END OPENSSH PRIVATE KEY-----\n';
  const INSPECT = kdl(`
stage "inspect" {
    executor "local"
    run "cat .git/config"
    run "git remote -v"
}
`);

  before(async () => {
    process.env.BUILDIT_SECRET_KEY ??= randomBytes(32).toString('base64');
    await withSecretKeys(db.prisma, { dataDir }, async (tx, keyring) => {
      await writeSecret(tx, keyring, { tenantId: seeded.tenantId, name: 'GIT_TOKEN', value: TOKEN, userId: null });
      await writeSecret(tx, keyring, { tenantId: seeded.tenantId, name: 'GIT_KEY', value: KEY, userId: null });
    });
  });

  test('a token: not in .git/config, the logs, the run row, the mirror or the process list', async () => {
    const repo = path.join(dataDir, 'private', 'token.git');
    createRepository(repo, { 'buildit.kdl': INSPECT, 'a.txt': 'a\n' });
    const pipeline = await newPipeline({ repository: `file://${repo}`, credentialsSecret: 'GIT_TOKEN', cloneDepth: 0 });
    const basic = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
    // Watch the process list while the run clones.
    const seen: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        seen.push(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const run = await triggerRun(db.prisma, seeded.actor, pipeline.id, { event: 'manual', variables: {} }, null);
    const done = await execute(run.id);
    watching = false;
    await watcher;
    assert.equal(done.status, 'succeeded', JSON.stringify(done.stages.map((s) => [s.stageId, s.reason])));
    assert.ok(
      seen.some((list) => list.includes('git')),
      'the process list was sampled while git ran',
    );
    for (const list of seen) assert.ok(!list.includes(TOKEN) && !list.includes(basic), 'no credential in the process list');
    const inspect = await logOf(run.id, 'inspect');
    assert.match(inspect, /\[remote "origin"\]/, 'the stage printed the workspace .git/config');
    assert.match(inspect, new RegExp(`origin\\s+file://${repo}`));
    const everything = [
      inspect,
      await logOf(run.id, '@checkout'),
      JSON.stringify(await db.prisma.pipelineRun.findUniqueOrThrow({ where: { id: run.id }, include: { stages: true } })),
      (await db.prisma.logChunk.findMany({ where: { stageRun: { runId: run.id } } })).map((c) => c.text).join(''),
      readFileSync(path.join(MirrorStore.inDataDir(dataDir).dirFor(`file://${repo}`), 'config'), 'utf8'),
    ].join('\n');
    for (const value of [TOKEN, basic]) assert.ok(!everything.includes(value), `${value} appears nowhere`);
  });

  test('an SSH key: written 0600 outside the workspace while used, removed afterwards, never in .git/config or the logs', async () => {
    const credentials = await gitCredentials(KEY);
    const keyFile = /-i '([^']+)'/.exec(credentials.env.GIT_SSH_COMMAND ?? '')?.[1];
    assert.ok(keyFile, credentials.env.GIT_SSH_COMMAND);
    assert.match(credentials.env.GIT_SSH_COMMAND!, /-o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new/);
    assert.ok(!keyFile.startsWith(dataDir));
    assert.equal((execFileSync('stat', ['-c', '%a', keyFile], { encoding: 'utf8' }) as string).trim(), '600');
    await credentials.cleanup();
    assert.equal(existsSync(path.dirname(keyFile)), false);

    const before = new Set(readdirSync(os.tmpdir()).filter((name) => name.startsWith('buildit-ssh-')));
    const repo = path.join(dataDir, 'private', 'ssh.git');
    createRepository(repo, { 'buildit.kdl': INSPECT });
    const pipeline = await newPipeline({ repository: `file://${repo}`, credentialsSecret: 'GIT_KEY' });
    const run = await triggerRun(db.prisma, seeded.actor, pipeline.id, { event: 'manual', variables: {} }, null);
    const done = await execute(run.id);
    assert.equal(done.status, 'succeeded');
    const leftover = readdirSync(os.tmpdir()).filter((name) => name.startsWith('buildit-ssh-') && !before.has(name));
    assert.deepEqual(leftover, [], 'every key file is removed');
    const logs = (await logOf(run.id, 'inspect')) + (await logOf(run.id, '@checkout'));
    assert.match(logs, /\[remote "origin"\]/);
    assert.ok(!logs.includes('PRIVATE KEY') && !logs.includes('b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW'));
    assert.equal(git(repo, 'rev-parse', 'HEAD'), done.commitSha);
  });
});
