/**
 * The remote commands of the real `buildit` binary (node_modules/.bin/buildit, a child process) against
 * the real /api/v1 route handlers and Socket.IO over loopback HTTP (./router.ts), on a real PostgreSQL.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { setPrismaForTests } from '../../lib/api/db';
import { createPool } from '../../lib/db/client';
import { createRunEventPublisher } from '../../lib/realtime/publisher';
import { readSecretValues } from '../../lib/secrets/store';
import { seedWorld, VALID_KDL, INVALID_KDL, type World } from '../api/helpers';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { startTestRouter, type TestRouter } from '../support/api-router';

/** The API tests' pipeline, with a run variable (a trigger may only set declared variables). */
const DEMO_KDL = VALID_KDL.replace('stage "build" {', 'variable "GREETING" default="hello"\n\nstage "build" {').replace(
  'run "echo build',
  'run "echo ${var.GREETING} build',
);

const root = path.resolve(import.meta.dirname, '../..');
const bin = path.join(root, 'node_modules/.bin/buildit');

let database: TestDatabase;
let world: World;
let server: TestRouter;
let workerPool: pg.Pool;
let home: string;

before(async () => {
  database = await createTestDatabase();
  setPrismaForTests(database.prisma);
  world = await seedWorld(database.prisma);
  server = await startTestRouter({ realtime: database });
  workerPool = createPool(database.url, { max: 2 });
  home = mkdtempSync(path.join(os.tmpdir(), 'buildit-cli-remote-'));
});

after(async () => {
  await server?.stop();
  await workerPool?.end();
  setPrismaForTests(null);
  await database?.drop();
  if (home) rmSync(home, { recursive: true, force: true });
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** A small, explicit environment for the child (no inherited BUILDIT_* or XDG_* of the developer). */
function childEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: home, NO_COLOR: '1', ...extra } as unknown as NodeJS.ProcessEnv;
}

/** Runs the binary asynchronously (the API server lives in this process: a sync spawn would block it). */
function buildit(args: string[], env: Record<string, string | undefined> = {}, options: { input?: string } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(
      bin,
      args,
      {
        cwd: home,
        env: childEnv({ BUILDIT_CONFIG: path.join(home, 'config.json'), ...env }),
        encoding: 'utf8',
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

const as = (token: string) => ({ BUILDIT_URL: server.url, BUILDIT_TOKEN: token });

describe('login', () => {
  test('checks the token, writes the config with mode 0600, and the other commands use it', async () => {
    const file = path.join(home, 'login', 'config.json');
    const result = await buildit(['login', '--url', `${server.url}/`, '--token', world.adminA.token, '--json'], { BUILDIT_CONFIG: file });
    assert.equal(result.code, 0, result.stderr);
    const printed = JSON.parse(result.stdout) as { url: string; config: string; tenants: Array<{ id: string }> };
    assert.equal(printed.url, server.url, 'the trailing slash is dropped');
    assert.equal(printed.config, file);
    assert.deepEqual(
      printed.tenants.map((t) => t.id),
      [world.tenantA],
    );
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { url: server.url, token: world.adminA.token });
    const list = await buildit(['pipelines', 'list', '--json'], { BUILDIT_CONFIG: file });
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), []);
  });

  test('XDG_CONFIG_HOME is respected without BUILDIT_CONFIG; --token-stdin reads the token', async () => {
    const xdg = path.join(home, 'xdg');
    const result = await buildit(
      ['login', '--url', server.url, '--token-stdin'],
      { BUILDIT_CONFIG: undefined, XDG_CONFIG_HOME: xdg },
      { input: `${world.viewerA.token}\n` },
    );
    assert.equal(result.code, 0, result.stderr);
    const file = path.join(xdg, 'buildit', 'config.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { token: string }).token, world.viewerA.token);
  });

  test('a bad token is refused (exit 1) and nothing is written; a missing URL is a usage error (exit 2)', async () => {
    const file = path.join(home, 'bad', 'config.json');
    const bad = await buildit(['login', '--url', server.url, '--token', `bk_${'q'.repeat(40)}`], { BUILDIT_CONFIG: file });
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /^buildit: the API token is not valid \(invalid_token\)\n$/);
    assert.equal(existsSync(file), false);
    const missing = await buildit(['login', '--token', world.viewerA.token], { BUILDIT_CONFIG: file });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--url/);
    const unreachable = await buildit(['login', '--url', 'http://127.0.0.1:9', '--token', world.viewerA.token], { BUILDIT_CONFIG: file });
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /cannot reach http:\/\/127\.0\.0\.1:9.*\(unreachable\)/);
  });

  test('without a config or environment, remote commands say how to log in (exit 2)', async () => {
    const result = await buildit(['runs', 'show', 'x'], { BUILDIT_CONFIG: path.join(home, 'none.json') });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /not logged in: run `buildit login/);
  });
});

describe('pipelines, trigger, runs', () => {
  let pipelineId: string;
  let runId: string;

  test('pipelines create -f, list, show', async () => {
    const file = path.join(home, 'demo.kdl');
    writeFileSync(file, DEMO_KDL);
    const created = await buildit(['pipelines', 'create', '-f', file, '--json'], as(world.adminA.token));
    assert.equal(created.code, 0, created.stderr);
    const pipeline = JSON.parse(created.stdout) as { id: string; name: string; slug: string; tenantId: string; config: string };
    assert.equal(pipeline.name, 'demo', 'named after the pipeline in the file');
    assert.equal(pipeline.tenantId, world.tenantA, 'the only tenant of the token');
    assert.equal(pipeline.config, DEMO_KDL);
    pipelineId = pipeline.id;

    // The owner sees two tenants: --tenant is needed (by slug here).
    const ambiguous = await buildit(['pipelines', 'create', '-f', file, '--name', 'other'], as(world.owner.token));
    assert.equal(ambiguous.code, 2);
    assert.match(ambiguous.stderr, /pass --tenant/);
    const byOwner = await buildit(['pipelines', 'create', '-f', file, '--name', 'other', '--tenant', 'b'], as(world.owner.token));
    assert.equal(byOwner.code, 0, byOwner.stderr);
    assert.match(byOwner.stdout, /^Created pipeline b\/other \(\w+\)\.\n$/);

    const list = await buildit(['pipelines', 'list'], as(world.owner.token));
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^ID\s+TENANT\s+SLUG\s+NAME\s+RUNS\n/);
    assert.match(list.stdout, /\sa\s+demo\s+demo\s+0\n/);
    assert.match(list.stdout, /\sb\s+other\s+other\s+0\n/);

    const show = await buildit(['pipelines', 'show', 'demo'], as(world.adminA.token));
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^Pipeline demo \(demo\)\n/);
    assert.ok(show.stdout.endsWith(DEMO_KDL));
  });

  test('an invalid pipeline is refused with every diagnostic (exit 1)', async () => {
    const file = path.join(home, 'bad.kdl');
    writeFileSync(file, INVALID_KDL);
    const result = await buildit(['pipelines', 'create', '-f', file, '--name', 'bad'], as(world.adminA.token));
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^buildit: the pipeline config has 2 errors; .* \(invalid_pipeline\)\n/);
    assert.match(result.stderr, /\n {2}bad\.kdl:2:7: /);
    assert.match(result.stderr, /\n {2}bad\.kdl:3:3: /);
  });

  test('a file that is not UTF-8 is refused before anything is sent, as `buildit validate` refuses it (exit 2)', async () => {
    const file = path.join(home, 'latin1.kdl');
    writeFileSync(file, Buffer.concat([Buffer.from('pipeline "caf'), Buffer.from([0xe9]), Buffer.from('"\n')]));
    const before = await database.prisma.pipeline.count();
    const result = await buildit(['pipelines', 'create', '-f', file, '--name', 'latin1'], as(world.adminA.token));
    assert.equal(result.code, 2);
    assert.match(result.stderr, /latin1\.kdl:1:14: error: the file is not valid UTF-8 \(byte 0xe9\)/);
    assert.equal(await database.prisma.pipeline.count(), before);
  });

  test('trigger with --branch, --sha and --var; runs show --json; runs list', async () => {
    const triggered = await buildit(
      ['trigger', pipelineId, '--branch', 'feature/x', '--sha', 'abc1234', '--var', 'GREETING=hi=there', '--json'],
      as(world.memberA.token),
    );
    assert.equal(triggered.code, 0, triggered.stderr);
    const run = JSON.parse(triggered.stdout) as {
      id: string;
      number: number;
      status: string;
      branch: string;
      commitSha: string;
      variables: Record<string, string>;
    };
    assert.equal(run.number, 1);
    assert.equal(run.branch, 'feature/x');
    assert.equal(run.commitSha, 'abc1234');
    assert.deepEqual(run.variables, { GREETING: 'hi=there' });
    runId = run.id;

    const shown = await buildit(['runs', 'show', runId, '--json'], as(world.viewerA.token));
    assert.equal(shown.code, 0, shown.stderr);
    const detail = JSON.parse(shown.stdout) as { id: string; status: string; stages: Array<{ stageId: string; status: string }> };
    assert.equal(detail.id, runId);
    assert.equal(detail.status, 'queued');
    assert.deepEqual(
      detail.stages.map((s) => [s.stageId, s.status]),
      [
        ['build', 'pending'],
        ['test', 'pending'],
        ['deploy', 'skipped'],
      ],
    );
    const text = await buildit(['runs', 'show', runId], as(world.viewerA.token));
    assert.match(text.stdout, /^Run #1 queued\n/);
    assert.match(text.stdout, /deploy\s+skipped\s+1\s+.*branch/);

    const listed = await buildit(['runs', 'list', 'a/demo', '--status', 'queued', '--json'], as(world.viewerA.token));
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as Array<{ id: string }>).map((r) => r.id),
      [runId],
    );
    const badStatus = await buildit(['runs', 'list', 'demo', '--status', 'nope'], as(world.viewerA.token));
    assert.equal(badStatus.code, 2);
  });

  test('errors of the API: a viewer cannot trigger (exit 1, `buildit: <message> (<code>)`); an unknown run is not_found', async () => {
    const refused = await buildit(['trigger', pipelineId], as(world.viewerA.token));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^buildit: .+ \(forbidden\)\n$/);
    const missing = await buildit(['runs', 'show', 'cm00000000000000000000000'], as(world.viewerA.token));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^buildit: .+ \(not_found\)\n$/);
    const badVar = await buildit(['trigger', pipelineId, '--var', 'novalue'], as(world.memberA.token));
    assert.equal(badVar.code, 2);
  });

  test('runs rerun of an unfinished run is refused (run_not_finished, exit 1)', async () => {
    const result = await buildit(['runs', 'rerun', runId, '--failed'], as(world.memberA.token));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^buildit: .+ \(run_not_finished\)\n$/);
  });

  test('runs logs prints the stored chunks; --follow streams live chunks and ends with the run', async () => {
    const stage = await database.prisma.stageRun.findFirstOrThrow({ where: { runId, stageId: 'build' } });
    await database.prisma.pipelineRun.update({ where: { id: runId }, data: { status: 'running', startedAt: new Date() } });
    await database.prisma.stageRun.update({ where: { id: stage.id }, data: { status: 'running', startedAt: new Date() } });
    const insert = async (seq: number, lines: string[]) => {
      await database.pool.query(
        `INSERT INTO log_chunks (stage_run_id, seq, text, first_line, line_count, streams, attempt) VALUES ($1, $2, $3, $4, $5, $6, 1)`,
        [stage.id, seq, lines.map((l) => `${l}\n`).join(''), seq, lines.length, 'o'.repeat(lines.length)],
      );
      return {
        type: 'stage.log_chunk' as const,
        time: new Date().toISOString(),
        runId,
        stage: 'build',
        stageRunId: stage.id,
        seq,
        firstLine: seq,
        lines: lines.map((line) => ({ stream: 'stdout' as const, line })),
      };
    };
    await insert(1, ['compiling', 'linking']);

    const stored = await buildit(['runs', 'logs', runId], as(world.viewerA.token));
    assert.equal(stored.code, 0, stored.stderr);
    assert.equal(stored.stdout, '[build] compiling\n[build] linking\n');
    const storedJson = await buildit(['runs', 'logs', runId, '--stage', 'build', '--json'], as(world.viewerA.token));
    assert.deepEqual(
      storedJson.stdout
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { seq: number; text: string }).text),
      ['compiling\nlinking\n'],
    );

    // --follow in a child process; the worker side publishes while it runs.
    const child = spawn(bin, ['runs', 'logs', runId, '--follow'], {
      cwd: home,
      env: childEnv(as(world.viewerA.token)),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
    const deadline = Date.now() + 20_000;
    while (!stdout.includes('linking') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.match(stdout, /linking/, `the catch-up was not printed: ${stderr}`);

    const publisher = createRunEventPublisher(workerPool);
    const target = { tenantId: world.tenantA, runId };
    await publisher.publish(target, await insert(2, ['tests passed']));
    while (!stdout.includes('tests passed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await database.prisma.stageRun.update({ where: { id: stage.id }, data: { status: 'succeeded', finishedAt: new Date() } });
    await publisher.publish(target, {
      type: 'stage.finished',
      time: new Date().toISOString(),
      runId,
      stage: 'build',
      status: 'succeeded',
      exitCode: 0,
      attempt: 1,
      durationMs: 5,
    });
    await database.prisma.pipelineRun.update({ where: { id: runId }, data: { status: 'failed', finishedAt: new Date() } });
    await publisher.publish(target, { type: 'run.finished', time: new Date().toISOString(), runId, status: 'failed', durationMs: 9 });
    const code = await exited;
    assert.equal(stdout, '[build] compiling\n[build] linking\n[build] tests passed\n');
    assert.match(stderr, /--- build succeeded/);
    assert.match(stderr, /run #1 failed/);
    assert.equal(code, 1, 'a failed run ends --follow with exit 1');
  });

  test('runs rerun (all, and --failed) calls the rerun endpoint', async () => {
    // The run of the logs test ended failed with build succeeded and test never started.
    const nothing = await buildit(['runs', 'rerun', runId, '--failed'], as(world.memberA.token));
    assert.equal(nothing.code, 1);
    assert.match(nothing.stderr, /\(nothing_to_rerun\)\n$/);

    const all = await buildit(['runs', 'rerun', runId, '--json'], as(world.memberA.token));
    assert.equal(all.code, 0, all.stderr);
    const full = JSON.parse(all.stdout) as {
      id: string;
      number: number;
      branch: string;
      commitSha: string;
      variables: Record<string, string>;
      stages: Array<{ stageId: string; status: string }>;
    };
    assert.equal(full.branch, 'feature/x');
    assert.equal(full.commitSha, 'abc1234');
    assert.deepEqual(full.variables, { GREETING: 'hi=there' });
    assert.deepEqual(
      full.stages.map((s) => [s.stageId, s.status]),
      [
        ['build', 'pending'],
        ['test', 'pending'],
        ['deploy', 'skipped'],
      ],
    );
    assert.equal((await database.prisma.pipelineRun.findUniqueOrThrow({ where: { id: full.id } })).rerunOfId, runId);

    await database.prisma.stageRun.updateMany({ where: { runId, stageId: 'test' }, data: { status: 'failed', exitCode: 1, finishedAt: new Date() } });
    const failed = await buildit(['runs', 'rerun', runId, '--failed'], as(world.memberA.token));
    assert.equal(failed.code, 0, failed.stderr);
    assert.match(failed.stdout, /^Started run #\d+ \(\w+\), reusing build\.\n$/);
    const number = Number(/#(\d+)/.exec(failed.stdout)![1]);
    const created = await database.prisma.pipelineRun.findFirstOrThrow({ where: { pipelineId, number }, include: { stages: true } });
    assert.equal(created.rerunOfId, runId);
    assert.deepEqual(Object.fromEntries(created.stages.map((s) => [s.stageId, s.status])), { build: 'succeeded', test: 'pending', deploy: 'skipped' });

    const viewer = await buildit(['runs', 'rerun', runId], as(world.viewerA.token));
    assert.equal(viewer.code, 1);
    assert.match(viewer.stderr, /\(forbidden\)\n$/);
  });

  test('runs rerun against a server without the endpoint says so (exit 2) instead of calling it', async () => {
    // An older server: its OpenAPI document has no rerun operation (and any other request would be a 404).
    const requests: string[] = [];
    const old = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      if (req.url === '/api/v1/openapi.json') {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ openapi: '3.1.0', paths: { '/api/v1/runs/{runId}': { get: { operationId: 'getRun' } } } }));
      } else {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { code: 'not_found', message: 'no such route', details: null } }));
      }
    });
    await new Promise<void>((resolve) => old.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = old.address() as AddressInfo;
      const result = await buildit(['runs', 'rerun', runId, '--failed'], { BUILDIT_URL: `http://127.0.0.1:${port}`, BUILDIT_TOKEN: world.memberA.token });
      assert.equal(result.code, 2);
      assert.match(result.stderr, /does not support rerunning runs yet/);
      assert.deepEqual(requests, ['GET /api/v1/openapi.json']);
    } finally {
      old.closeAllConnections();
      await new Promise<void>((resolve) => old.close(() => resolve()));
    }
  });

  test('runs cancel', async () => {
    const triggered = await buildit(['trigger', pipelineId, '--json'], as(world.memberA.token));
    const run = JSON.parse(triggered.stdout) as { id: string };
    const cancelled = await buildit(['runs', 'cancel', run.id, '--json'], as(world.memberA.token));
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal((JSON.parse(cancelled.stdout) as { status: string }).status, 'cancelled');
    const again = await buildit(['runs', 'cancel', run.id], as(world.memberA.token));
    assert.equal(again.code, 1);
    assert.match(again.stderr, /\(run_finished\)\n$/);
  });
});

describe('tokens', () => {
  test('create prints the token once, alone on stdout; it works; list shows it without the token; revoke ends it', async () => {
    const created = await buildit(['tokens', 'create', 'ci', '--scope', 'read', '--scope', 'runs:trigger', '--expires', '30d'], as(world.memberA.token));
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^bk_[A-Za-z0-9_-]{43}\n$/);
    assert.match(created.stderr, /^Created personal token "ci" \(\w+\)\. Copy it now: it is not shown again\.\n$/);
    const token = created.stdout.trim();

    const listed = await buildit(['tokens', 'list', '--json'], as(token));
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(!listed.stdout.includes(token), 'a list never shows a token');
    const mine = (JSON.parse(listed.stdout) as Array<{ id: string; name: string; scopes: string[]; expiresAt: string }>).find((t) => t.name === 'ci');
    assert.ok(mine);
    assert.deepEqual(mine.scopes, ['read', 'runs:trigger']);
    assert.ok(Math.abs(Date.parse(mine.expiresAt) - (Date.now() + 30 * 86_400_000)) < 60_000, mine.expiresAt);

    const table = await buildit(['tokens', 'list'], as(world.memberA.token));
    assert.match(table.stdout, /^ID\s+NAME\s+KIND\s+PREFIX\s+SCOPES\s+TENANT\s+EXPIRES\s+LAST USED\s+STATUS\n/);
    // Last used: just now, by the list above.
    assert.match(
      table.stdout,
      new RegExp(`${mine.id}\\s+ci\\s+personal\\s+${token.slice(0, 12)}\\s+read,runs:trigger\\s+-\\s+${mine.expiresAt}\\s+20\\S+\\s+active\\n`),
    );

    const revoked = await buildit(['tokens', 'revoke', mine.id], as(world.memberA.token));
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(revoked.stdout, `Revoked token "ci" (${mine.id}).\n`);
    const after = await buildit(['tokens', 'list'], as(token));
    assert.equal(after.code, 1);
    assert.match(after.stderr, /revoked.*\(invalid_token\)/);
  });

  test('--tenant restricts the token; scopes beyond the role are refused (exit 1); bad arguments are usage errors (exit 2)', async () => {
    const restricted = await buildit(['tokens', 'create', 'tenant-a', '--scope', 'read', '--tenant', 'a', '--json'], as(world.owner.token));
    assert.equal(restricted.code, 0, restricted.stderr);
    assert.equal((JSON.parse(restricted.stdout) as { tenantId: string }).tenantId, world.tenantA);

    const beyond = await buildit(['tokens', 'create', 'x', '--scope', 'secrets:write'], as(world.viewerA.token));
    assert.equal(beyond.code, 1);
    assert.equal(beyond.stdout, '');
    assert.match(beyond.stderr, /^buildit: your role allows nothing that the scope secrets:write would grant: .* \(forbidden\)\n/);

    for (const args of [['--scope', 'write'], [], ['--scope', 'read', '--expires', 'soon'], ['--scope', 'read', '--expires', '2001-01-01']]) {
      const usage = await buildit(['tokens', 'create', 'x', ...args], as(world.owner.token));
      assert.equal(usage.code, 2, `${args.join(' ')}: ${usage.stderr}`);
    }
  });
});

describe('secrets', () => {
  // The key the route handlers (in this process) encrypt with.
  before(() => (process.env.BUILDIT_SECRET_KEY = randomBytes(32).toString('base64')));
  after(() => delete process.env.BUILDIT_SECRET_KEY);

  test('set from stdin (one final newline dropped) or --from-file (verbatim), list, delete; no output shows a value', async () => {
    const admin = as(world.adminA.token);
    const set = await buildit(['secrets', 'set', 'NPM_TOKEN'], admin, { input: 'npm-token-value-1234\n' });
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, 'Set secret NPM_TOKEN in tenant a.\n');
    const keyFile = path.join(home, 'deploy_key');
    writeFileSync(keyFile, '-----BEGIN KEY-----\nbGluZS1vbmUtb2Yta2V5\n-----END KEY-----\n');
    const fromFile = await buildit(['secrets', 'set', 'DEPLOY_KEY', '--from-file', keyFile, '--tenant', 'a', '--json'], admin);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.equal((JSON.parse(fromFile.stdout) as { name: string }).name, 'DEPLOY_KEY');
    assert.deepEqual(await readSecretValues(database.prisma, world.tenantA, ['NPM_TOKEN', 'DEPLOY_KEY']), {
      NPM_TOKEN: 'npm-token-value-1234',
      DEPLOY_KEY: readFileSync(keyFile, 'utf8'),
    });

    const listed = await buildit(['secrets', 'list'], as(world.viewerA.token));
    assert.equal(listed.code, 0, listed.stderr);
    const [header, ...rows] = listed.stdout.trimEnd().split('\n');
    assert.match(header!, /^NAME\s+UPDATED\s+UPDATED BY\s+CREATED\s+CREATED BY$/);
    assert.deepEqual(
      rows.map((row) => row.split(/\s+/)[0]),
      ['DEPLOY_KEY', 'NPM_TOKEN'],
    );
    assert.match(rows[0]!, /@example\.test/);
    const json = await buildit(['secrets', 'list', '--json'], admin);
    assert.deepEqual(
      (JSON.parse(json.stdout) as Array<{ name: string }>).map((secret) => secret.name),
      ['DEPLOY_KEY', 'NPM_TOKEN'],
    );
    for (const output of [set, fromFile, listed, json]) assert.ok(!/npm-token-value|bGluZS1vbmUt/.test(output.stdout + output.stderr));

    const deleted = await buildit(['secrets', 'delete', 'NPM_TOKEN'], admin);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, 'Deleted secret NPM_TOKEN from tenant a.\n');
    const again = await buildit(['secrets', 'delete', 'NPM_TOKEN'], admin);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, 'buildit: secret not found (not_found)\n');
  });

  test('refusals: a viewer (exit 1, forbidden), a bad name (exit 1, the reason), an empty, too large or non-UTF-8 value (exit 2, nothing sent)', async () => {
    const viewer = await buildit(['secrets', 'set', 'X_TOKEN'], as(world.viewerA.token), { input: 'value-1234' });
    assert.equal(viewer.code, 1);
    assert.match(viewer.stderr, /\(forbidden\)\n$/);
    const badName = await buildit(['secrets', 'set', 'BUILDIT_TOKEN'], as(world.adminA.token), { input: 'value-1234' });
    assert.equal(badName.code, 1);
    assert.match(badName.stderr, /^buildit: invalid secret name "BUILDIT_TOKEN": names starting with BUILDIT_ are reserved .*\(validation_failed\)/);
    const empty = await buildit(['secrets', 'set', 'X_TOKEN'], as(world.adminA.token), { input: '\n' });
    assert.equal(empty.code, 2);
    assert.equal(empty.stderr, 'buildit: stdin is empty: a secret needs a value\n');
    const large = path.join(home, 'large');
    writeFileSync(large, 'x'.repeat(64 * 1024 + 1));
    const tooLarge = await buildit(['secrets', 'set', 'X_TOKEN', '--from-file', large], as(world.adminA.token));
    assert.equal(tooLarge.code, 2);
    assert.match(tooLarge.stderr, /holds 65537 bytes: a secret value is at most 65536 bytes/);
    const binary = path.join(home, 'binary');
    writeFileSync(binary, Buffer.from([0xff, 0xfe, 0x00, 0x01]));
    const notText = await buildit(['secrets', 'set', 'X_TOKEN', '--from-file', binary], as(world.adminA.token));
    assert.equal(notText.code, 2);
    assert.match(notText.stderr, /is not UTF-8 text: store it base64-encoded/);
  });
});
