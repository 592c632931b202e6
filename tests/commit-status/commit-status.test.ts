/**
 * Commit status end to end (real PostgreSQL, a FAKE forge on 127.0.0.1, tests/support/fake-forge.ts): a
 * signed webhook delivery through the route handler creates the run and its status target; the run's
 * transitions (lib/runs: claimRun, the StoreSink's run.started/run.finished) enqueue `commit_status` jobs;
 * the worker's handler runs them through a JobRunner. For GitHub, GitLab and Gitea: the calls' URL path,
 * token header and body; a forge that is down (503, then a closed port) delays nothing and gets the final
 * status once back; runs not from a forge get no job; the token is in no job row, error or log line.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { COMMIT_STATUS_JOB } from '../../lib/commit-status/queue';
import type { RunOutcome } from '../../lib/events/types';
import { JobRunner } from '../../lib/queue/runner';
import { StoreSink } from '../../lib/runs/store-sink';
import { claimRun } from '../../lib/runs/transitions';
import { createCommitStatusHandler } from '../../worker/jobs/commit-status';
import { call, insertPipeline, routeHandler, useApiWorld } from '../api/helpers';
import { RecordingPublisher } from '../runs/helpers';
import { FakeForge } from '../support/fake-forge';
import { fixture, githubExample } from '../webhooks/helpers';

process.env.BUILDIT_SECRET_KEY = randomBytes(32).toString('base64');
process.env.BUILDIT_PUBLIC_URL = 'https://ci.example.test/';

const TOKEN = `forge-token-${randomBytes(12).toString('hex')}`;
const KDL = `pipeline "statuses" {
    on "push"
}

stage "build" {
    image "alpine:3.20"
    run "echo build"
}
`;

type ForgeName = 'github' | 'gitlab' | 'gitea';
const api = useApiWorld();
const forge = new FakeForge();
let logText = '';
let runner: JobRunner;

let deliveries = 0;

/** A pipeline with a webhook secret, the status token secret named and the tenant secret set, all through the API. */
async function pipelineWithStatus(token: string | null = 'FORGE_TOKEN'): Promise<{ pipelineId: string; secret: string; slug: string }> {
  const { prisma } = api.database;
  const pipelineId = await insertPipeline(prisma, api.world.tenantA, KDL);
  const created = await call(await routeHandler('POST', '/api/v1/pipelines/{pipelineId}/webhook-secret'), 'POST', '/', {
    token: api.world.adminA.token,
    params: { pipelineId },
  });
  assert.equal(created.status, 201, created.text);
  if (token !== null) {
    const named = await call(await routeHandler('PUT', '/api/v1/pipelines/{pipelineId}/webhook-status-token'), 'PUT', '/', {
      token: api.world.adminA.token,
      params: { pipelineId },
      body: { statusTokenSecret: token },
    });
    assert.equal(named.status, 200, named.text);
    assert.deepEqual(named.body, { statusTokenSecret: token });
    const set = await call(await routeHandler('PUT', '/api/v1/tenants/{tenantId}/secrets/{name}'), 'PUT', '/', {
      token: api.world.owner.token,
      params: { tenantId: api.world.tenantA, name: token },
      body: { value: TOKEN },
    });
    assert.ok(set.status < 300, set.text);
  }
  const { slug } = await prisma.pipeline.findUniqueOrThrow({ where: { id: pipelineId } });
  return { pipelineId, secret: (created.body as { secret: string }).secret, slug };
}

/** A push payload of each forge whose repository lives on the fake forge, its commit, and where its status goes. */
function push(name: ForgeName): { event: string; payload: Record<string, unknown>; sha: string; statusPath: string } {
  const sha = randomBytes(20).toString('hex');
  switch (name) {
    case 'github': {
      const example = githubExample('push', (p) => p.ref === 'refs/heads/master');
      const repository = {
        ...(example.repository as Record<string, unknown>),
        url: `${forge.origin}/repos/Codertocat/Hello-World`,
        statuses_url: `${forge.origin}/repos/Codertocat/Hello-World/statuses/{sha}`,
      };
      return {
        event: 'push',
        payload: { ...example, after: sha, head_commit: null, repository },
        sha,
        statusPath: `/repos/Codertocat/Hello-World/statuses/${sha}`,
      };
    }
    case 'gitlab': {
      const payload = fixture('gitlab-push.json');
      const project = {
        ...(payload.project as Record<string, unknown>),
        id: 15,
        web_url: `${forge.origin}/mike/diaspora`,
        path_with_namespace: 'mike/diaspora',
      };
      return { event: 'Push Hook', payload: { ...payload, after: sha, project }, sha, statusPath: `/api/v4/projects/15/statuses/${sha}` };
    }
    case 'gitea': {
      const payload = fixture('gitea-push.json');
      const repository = { ...(payload.repository as Record<string, unknown>), html_url: `${forge.origin}/gitea/webhooks` };
      return {
        event: 'push',
        payload: { ...payload, after: sha, head_commit: null, repository },
        sha,
        statusPath: `/api/v1/repos/gitea/webhooks/statuses/${sha}`,
      };
    }
  }
}

/** A signed delivery through the route handler; the run it created. */
async function deliver(name: ForgeName, pipelineId: string, secret: string, event: string, payload: unknown): Promise<string> {
  const body = JSON.stringify(payload);
  const hex = createHmac('sha256', secret).update(body).digest('hex');
  const id = `status-${process.pid}-${++deliveries}`;
  const signed: Record<string, string> =
    name === 'github'
      ? { 'x-github-event': event, 'x-github-delivery': id, 'x-hub-signature-256': `sha256=${hex}` }
      : name === 'gitlab'
        ? { 'x-gitlab-event': event, 'x-gitlab-event-uuid': id, 'x-gitlab-token': secret }
        : { 'x-gitea-event': event, 'x-gitea-delivery': id, 'x-gitea-signature': hex };
  const result = await call(await routeHandler('POST', '/api/v1/webhooks/{forge}/{pipelineId}'), 'POST', `/api/v1/webhooks/${name}/${pipelineId}`, {
    rawBody: body,
    headers: { 'content-type': 'application/json', ...signed },
    params: { forge: name, pipelineId },
  });
  assert.equal(result.status, 201, result.text);
  return (result.body as { run: { id: string } }).run.id;
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every commit_status job of the run has finished (succeeded or failed for good). */
const settled = (runId: string) => async () => {
  const open = await api.database.pool.query(`SELECT 1 FROM jobs WHERE kind = $1 AND payload->>'runId' = $2 AND status IN ('queued', 'running')`, [
    COMMIT_STATUS_JOB,
    runId,
  ]);
  return open.rowCount === 0;
};

/** The worker's side of a run: claimed (queued → running), started and finished through the StoreSink. */
async function startRun(runId: string): Promise<StoreSink> {
  const { prisma } = api.database;
  assert.equal(await claimRun(prisma, runId, 'queued'), 'running');
  const sink = new StoreSink({
    prisma,
    publisher: new RecordingPublisher(prisma),
    runId,
    tenantId: api.world.tenantA,
    stageRunIds: new Map(),
    logger: pino({ level: 'silent' }),
  });
  await sink.emit({ type: 'run.started', time: new Date().toISOString(), runId, pipeline: 'statuses', stages: [] });
  return sink;
}

async function finishRun(sink: StoreSink, runId: string, status: RunOutcome): Promise<void> {
  await sink.emit({ type: 'run.finished', time: new Date().toISOString(), runId, status, durationMs: 1 });
  await sink.close();
}

const RUNNING: Record<ForgeName, string> = { github: 'pending', gitlab: 'running', gitea: 'pending' };
const FAILED: Record<ForgeName, string> = { github: 'failure', gitlab: 'failed', gitea: 'failure' };

function assertCall(name: ForgeName, path: string, slug: string, runId: string): void {
  const calls = forge.calls.filter((c) => c.path === path);
  assert.ok(calls.length > 0, `no call to ${path}`);
  for (const c of calls) {
    assert.equal(c.method, 'POST');
    assert.equal(c.headers['content-type'], 'application/json');
    if (name === 'github') assert.equal(c.headers.authorization, `Bearer ${TOKEN}`);
    if (name === 'gitlab') assert.equal(c.headers['private-token'], TOKEN);
    if (name === 'gitea') assert.equal(c.headers.authorization, `token ${TOKEN}`);
    assert.equal(c.body.target_url, `https://ci.example.test/runs/${runId}`);
    assert.match(String(c.body.description), /^BuildIt run #\d+ /);
    assert.equal(name === 'gitlab' ? c.body.name : c.body.context, `buildit/${slug}`);
  }
}

async function assertTokenNowhere(): Promise<void> {
  const jobs = await api.database.pool.query('SELECT row_to_json(jobs)::text AS row FROM jobs');
  for (const { row } of jobs.rows as Array<{ row: string }>) assert.ok(!row.includes(TOKEN), `the token is in a job row: ${row}`);
  const targets = await api.database.pool.query('SELECT row_to_json(t)::text AS row FROM run_status_targets t');
  for (const { row } of targets.rows as Array<{ row: string }>) assert.ok(!row.includes(TOKEN), 'the token is in a status target');
  assert.ok(!logText.includes(TOKEN), 'the token is in the worker log');
}

describe('commit status', () => {
  before(async () => {
    await forge.start();
    // The worker's handler through the queue, with a logger whose output the token checks read.
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logText += chunk.toString('utf8');
        done();
      },
    });
    const log = pino({ level: 'debug' }, sink);
    const { pool, prisma } = api.database;
    runner = new JobRunner({
      pool,
      workerId: 'commit-status-test',
      handlers: { [COMMIT_STATUS_JOB]: createCommitStatusHandler({ prisma, pool }) },
      kinds: [COMMIT_STATUS_JOB],
      concurrency: 2,
      pollMs: 100,
      log,
    });
    await runner.start();
  });
  after(async () => {
    await runner?.stop({ graceMs: 1_000 });
    await forge.stop();
  });

  for (const name of ['github', 'gitlab', 'gitea'] as const) {
    test(`${name}: a green run reports pending then success, a red one failure, on the right URL with the token`, async () => {
      const { pipelineId, secret, slug } = await pipelineWithStatus();

      const green = push(name);
      const runId = await deliver(name, pipelineId, secret, green.event, green.payload);
      await waitFor('the pending status', () => forge.states(green.statusPath).length === 1);
      assert.deepEqual(forge.states(green.statusPath), ['pending']);
      const sink = await startRun(runId);
      await waitFor('the running status', settled(runId));
      await finishRun(sink, runId, 'succeeded');
      await waitFor('the final status', async () => (await settled(runId)()) && forge.states(green.statusPath).at(-1) === 'success');
      assert.deepEqual(forge.states(green.statusPath), ['pending', RUNNING[name], 'success']);
      assertCall(name, green.statusPath, slug, runId);

      const red = push(name);
      const redRun = await deliver(name, pipelineId, secret, red.event, red.payload);
      const redSink = await startRun(redRun);
      await finishRun(redSink, redRun, 'failed');
      await waitFor('the failure', async () => (await settled(redRun)()) && forge.states(red.statusPath).at(-1) === FAILED[name]);
      const states = forge.states(red.statusPath);
      assert.equal(states.at(-1), FAILED[name]);
      // Whatever was sent before (the jobs may run after the run finished), never anything after the final state.
      assert.ok(
        states.slice(0, -1).every((state) => state === 'pending' || state === 'running'),
        states.join(','),
      );
      assertCall(name, red.statusPath, slug, redRun);
      await assertTokenNowhere();
    });
  }

  test('a re-run of a forge run reports to the same commit status: pending again, then its own result', async () => {
    const { pipelineId, secret } = await pipelineWithStatus();
    const pushed = push('github');
    const first = await deliver('github', pipelineId, secret, pushed.event, pushed.payload);
    await finishRun(await startRun(first), first, 'failed');
    await waitFor('the failure', async () => (await settled(first)()) && forge.states(pushed.statusPath).at(-1) === 'failure');
    const rerunCall = await call(await routeHandler('POST', '/api/v1/runs/{runId}/rerun'), 'POST', '/', {
      token: api.world.adminA.token,
      params: { runId: first },
      body: {},
    });
    assert.equal(rerunCall.status, 201, rerunCall.text);
    const rerun = rerunCall.body as { id: string };
    await waitFor('the re-run pending', () => forge.states(pushed.statusPath).at(-1) === 'pending');
    await finishRun(await startRun(rerun.id), rerun.id, 'succeeded');
    await waitFor('the re-run success', async () => (await settled(rerun.id)()) && forge.states(pushed.statusPath).at(-1) === 'success');
    const target = await api.database.prisma.runStatusTarget.findUniqueOrThrow({ where: { runId: rerun.id } });
    assert.equal(target.sha, pushed.sha);
    assert.ok(
      forge.calls.filter((call) => call.path === pushed.statusPath).some((call) => JSON.stringify(call.body).includes(rerun.id)),
      'the link is the re-run page',
    );
  });

  test('a forge answering 503 delays nothing: the run finishes, and the final status arrives once the forge is back', async () => {
    const { pipelineId, secret } = await pipelineWithStatus();
    forge.unavailable = true;
    try {
      const delivery = push('gitlab');
      const runId = await deliver('gitlab', pipelineId, secret, delivery.event, delivery.payload);
      await waitFor('a refused call', () => forge.states(delivery.statusPath).length >= 1);
      const sink = await startRun(runId);
      await finishRun(sink, runId, 'succeeded');
      const run = await api.database.prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId } });
      assert.equal(run.status, 'succeeded', 'the run finished while the forge was down');
      await waitFor('a failed attempt recorded', async () => {
        const failed = await api.database.pool.query(`SELECT last_error FROM jobs WHERE kind = $1 AND payload->>'runId' = $2 AND last_error IS NOT NULL`, [
          COMMIT_STATUS_JOB,
          runId,
        ]);
        return failed.rowCount! > 0;
      });
      const errors = await api.database.pool.query<{ last_error: string }>(`SELECT last_error FROM jobs WHERE kind = $1 AND last_error IS NOT NULL`, [
        COMMIT_STATUS_JOB,
      ]);
      assert.ok(
        errors.rows.some((row) => /answered 503/.test(row.last_error) && row.last_error.includes('***')),
        JSON.stringify(errors.rows),
      );
      await assertTokenNowhere();
      forge.unavailable = false;
      // Retried with the queue's backoff (2 s, then 4 s): the latest status, and nothing older after it.
      await waitFor('the status after the outage', async () => (await settled(runId)()) && forge.states(delivery.statusPath).at(-1) === 'success', 20_000);
      const accepted = forge.calls.filter((c) => c.path === delivery.statusPath).slice(-1);
      assert.equal(accepted[0]?.body.state, 'success');
      const target = await api.database.prisma.runStatusTarget.findUniqueOrThrow({ where: { runId } });
      assert.equal(target.deliveredState, 'succeeded');
    } finally {
      forge.unavailable = false;
    }
  });

  test('a forge whose port is closed: the run finishes, the status arrives after it is back', async () => {
    const { pipelineId, secret } = await pipelineWithStatus();
    const delivery = push('gitea');
    await forge.stop();
    let runId: string;
    try {
      runId = await deliver('gitea', pipelineId, secret, delivery.event, delivery.payload);
      const sink = await startRun(runId);
      await finishRun(sink, runId, 'failed');
      await waitFor('a failed attempt', async () => {
        const failed = await api.database.pool.query(`SELECT 1 FROM jobs WHERE kind = $1 AND payload->>'runId' = $2 AND last_error LIKE '%failed%'`, [
          COMMIT_STATUS_JOB,
          runId,
        ]);
        return failed.rowCount! > 0;
      });
      assert.equal((await api.database.prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId } })).status, 'failed');
    } finally {
      await forge.start();
    }
    await waitFor('the status after the outage', async () => (await settled(runId)()) && forge.states(delivery.statusPath).at(-1) === 'failure', 20_000);
    assert.deepEqual(forge.states(delivery.statusPath), ['failure'], 'only the latest state was sent once the forge was back');
    await assertTokenNowhere();
  });

  test('no commit_status job for runs not from a forge, nor for a webhook that names no status token', async () => {
    const { prisma, pool } = api.database;
    // A run through the API.
    const pipelineId = await insertPipeline(prisma, api.world.tenantA, KDL.replace('on "push"', 'on "push"\n    on "manual"'));
    const triggered = await call(await routeHandler('POST', '/api/v1/pipelines/{pipelineId}/runs'), 'POST', '/', {
      token: api.world.adminA.token,
      params: { pipelineId },
      body: { event: 'push', branch: 'main' },
    });
    assert.equal(triggered.status, 201, triggered.text);
    const apiRun = (triggered.body as { id: string }).id;
    await finishRun(await startRun(apiRun), apiRun, 'succeeded');

    // A delivery to a pipeline without a status token.
    const quiet = await pipelineWithStatus(null);
    const delivery = push('github');
    const hookRun = await deliver('github', quiet.pipelineId, quiet.secret, delivery.event, delivery.payload);
    await finishRun(await startRun(hookRun), hookRun, 'succeeded');

    const jobs = await pool.query(`SELECT 1 FROM jobs WHERE kind = $1 AND payload->>'runId' = ANY($2::text[])`, [COMMIT_STATUS_JOB, [apiRun, hookRun]]);
    assert.equal(jobs.rowCount, 0);
    assert.equal(await prisma.runStatusTarget.count({ where: { runId: { in: [apiRun, hookRun] } } }), 0);
    assert.deepEqual(forge.states(delivery.statusPath), []);
  });

  test('the status token route: 409 without a webhook secret, null clears it, a bad name is refused', async () => {
    const { prisma } = api.database;
    const route = await routeHandler('PUT', '/api/v1/pipelines/{pipelineId}/webhook-status-token');
    const bare = await insertPipeline(prisma, api.world.tenantA, KDL);
    const refused = await call(route, 'PUT', '/', { token: api.world.adminA.token, params: { pipelineId: bare }, body: { statusTokenSecret: 'X' } });
    assert.equal(refused.status, 409, refused.text);
    const { pipelineId } = await pipelineWithStatus();
    const invalid = await call(route, 'PUT', '/', { token: api.world.adminA.token, params: { pipelineId }, body: { statusTokenSecret: 'not a name' } });
    assert.equal(invalid.status, 422, invalid.text);
    const cleared = await call(route, 'PUT', '/', { token: api.world.adminA.token, params: { pipelineId }, body: { statusTokenSecret: null } });
    assert.equal(cleared.status, 200, cleared.text);
    assert.equal((await prisma.pipelineWebhook.findUniqueOrThrow({ where: { pipelineId } })).statusTokenSecret, null);
  });
});
