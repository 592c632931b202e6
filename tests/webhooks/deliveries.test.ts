/**
 * Webhook deliveries end to end through the route handlers (real PostgreSQL): the secret route, each forge's
 * signed push, tag push and pull/merge request becoming a run of exactly that commit, and everything that
 * must create nothing (bad or missing signature, unknown pipeline, deletion, events not listened to), replays,
 * the body cap, the secret's storage and the audit rows.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { TRIGGER_EVENTS } from '../../lib/pipeline/plan-types';
import { assertError, call, insertPipeline, routeHandler, useApiWorld } from '../api/helpers';
import { fixture, githubExample } from './helpers';

process.env.BUILDIT_SECRET_KEY = randomBytes(32).toString('base64');
process.env.BUILDIT_PUBLIC_URL = 'https://ci.example.test/';

const TAGS = (TRIGGER_EVENTS as readonly string[]).includes('tag');

/** Listens to every branch, pull request (and tag, when the language has the event). */
const KDL = `pipeline "hooks" {
    on "push"
    on "pull_request"
${TAGS ? '    on "tag"\n' : ''}}

stage "build" {
    image "alpine:3.20"
    run "echo build"
}
`;

/** Only pushes to main. */
const MAIN_ONLY = `pipeline "main-only" {
    on "push" branches="main"
}

stage "build" {
    image "alpine:3.20"
    run "echo build"
}
`;

const api = useApiWorld();

let deliveries = 0;
const deliveryId = () => `delivery-${process.pid}-${++deliveries}`;

async function pipelineWithSecret(config = KDL): Promise<{ pipelineId: string; secret: string; urls: Record<string, string> }> {
  const pipelineId = await insertPipeline(api.database.prisma, api.world.tenantA, config);
  const created = await call(await routeHandler('POST', '/api/v1/pipelines/{pipelineId}/webhook-secret'), 'POST', '/', {
    token: api.world.adminA.token,
    params: { pipelineId },
  });
  assert.equal(created.status, 201, created.text);
  const body = created.body as { secret: string; urls: Record<string, string> };
  return { pipelineId, secret: body.secret, urls: body.urls };
}

type Forge = 'github' | 'gitlab' | 'gitea';

/** Headers of a delivery of `event` signed (or tokened) with `secret` the forge's way; null: unsigned. */
function signedHeaders(forge: Forge, event: string, body: string, secret: string | null, id: string): Record<string, string> {
  const hex = secret === null ? null : createHmac('sha256', secret).update(body).digest('hex');
  switch (forge) {
    case 'github':
      return { 'x-github-event': event, 'x-github-delivery': id, ...(hex ? { 'x-hub-signature-256': `sha256=${hex}` } : {}) };
    case 'gitlab':
      return { 'x-gitlab-event': event, 'x-gitlab-event-uuid': id, ...(secret ? { 'x-gitlab-token': secret } : {}) };
    case 'gitea':
      return { 'x-gitea-event': event, 'x-gitea-delivery': id, ...(hex ? { 'x-gitea-signature': hex } : {}) };
  }
}

interface Delivered {
  status: number;
  body: { outcome: string; reason: string | null; run: Record<string, unknown> | null } | null;
  text: string;
}

async function deliver(
  forge: Forge,
  pipelineId: string,
  event: string,
  payload: unknown,
  secret: string | null,
  options: { id?: string; headers?: Record<string, string>; rawBody?: string } = {},
): Promise<Delivered> {
  const body = options.rawBody ?? JSON.stringify(payload);
  const headers = {
    'content-type': 'application/json',
    'user-agent': `${forge}-hookshot/test`,
    'x-forwarded-for': '192.0.2.7',
    ...signedHeaders(forge, event, body, secret, options.id ?? deliveryId()),
    ...options.headers,
  };
  const result = await call(await routeHandler('POST', '/api/v1/webhooks/{forge}/{pipelineId}'), 'POST', `/api/v1/webhooks/${forge}/${pipelineId}`, {
    rawBody: body,
    headers,
    params: { forge, pipelineId },
  });
  return result as Delivered;
}

const runCount = (pipelineId: string) => api.database.prisma.pipelineRun.count({ where: { pipelineId } });

/** The run as the runs API shows it. */
async function shownRun(runId: string): Promise<Record<string, unknown>> {
  const shown = await call(await routeHandler('GET', '/api/v1/runs/{runId}'), 'GET', '/', { token: api.world.owner.token, params: { runId } });
  assert.equal(shown.status, 200, shown.text);
  return shown.body as Record<string, unknown>;
}

function pick(run: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((key) => [key, run[key]]));
}
const GIT = ['event', 'branch', 'tag', 'commitSha', 'commitMessage', 'commitAuthor', 'pullRequest', 'triggeredBy', 'triggeredById'];

describe('the webhook secret', () => {
  test('is answered once with the URLs, stored encrypted, and a rotation replaces it', async () => {
    const { pipelineId, secret, urls } = await pipelineWithSecret();
    assert.match(secret, /^[\w-]{43}$/);
    assert.deepEqual(urls, {
      github: `https://ci.example.test/api/v1/webhooks/github/${pipelineId}`,
      gitlab: `https://ci.example.test/api/v1/webhooks/gitlab/${pipelineId}`,
      gitea: `https://ci.example.test/api/v1/webhooks/gitea/${pipelineId}`,
    });
    const { prisma } = api.database;
    // What a pg_dump would hold: every column of the table as text, and the audit rows.
    const dumped = await prisma.$queryRawUnsafe<Array<{ row: string }>>('SELECT t::text AS row FROM pipeline_webhooks t');
    const audit = await prisma.$queryRawUnsafe<Array<{ row: string }>>('SELECT t::text AS row FROM audit_logs t');
    assert.ok(dumped.length > 0);
    for (const { row } of [...dumped, ...audit]) {
      assert.ok(!row.includes(secret), 'the secret is stored in clear');
      assert.ok(!row.includes(Buffer.from(secret).toString('hex')), 'the secret is stored in clear (bytea)');
    }
    // Not in the pipeline's or its runs' answers either.
    const shown = await call(await routeHandler('GET', '/api/v1/pipelines/{pipelineId}'), 'GET', '/', { token: api.world.owner.token, params: { pipelineId } });
    assert.ok(!shown.text.includes(secret));
    const row = (await prisma.auditLog.findMany({ where: { action: 'pipeline.webhook_secret', targetId: pipelineId } }))[0];
    assert.deepEqual(pick(row as unknown as Record<string, unknown>, ['actorUserId', 'tenantId', 'targetType']), {
      actorUserId: api.world.adminA.userId,
      tenantId: api.world.tenantA,
      targetType: 'pipeline',
    });

    const rotated = await call(await routeHandler('POST', '/api/v1/pipelines/{pipelineId}/webhook-secret'), 'POST', '/', {
      token: api.world.owner.token,
      params: { pipelineId },
    });
    assert.equal(rotated.status, 201, rotated.text);
    const next = rotated.body as { secret: string; replaced: boolean };
    assert.equal(next.replaced, true);
    assert.notEqual(next.secret, secret);
    const push = githubExample('push', (p) => p.ref === 'refs/heads/master');
    assertError(await callAsResult(deliver('github', pipelineId, 'push', push, secret)), 401, 'invalid_signature');
    assert.equal((await deliver('github', pipelineId, 'push', push, next.secret)).status, 201);
  });

  test('needs pipeline.update: a viewer is refused, another tenant sees nothing', async () => {
    const pipelineId = await insertPipeline(api.database.prisma, api.world.tenantA, KDL);
    const handler = await routeHandler('POST', '/api/v1/pipelines/{pipelineId}/webhook-secret');
    assertError(await call(handler, 'POST', '/', { token: api.world.viewerA.token, params: { pipelineId } }), 403, 'forbidden');
    assertError(await call(handler, 'POST', '/', { token: api.world.outsider.token, params: { pipelineId } }), 404, 'not_found');
  });
});

async function callAsResult(delivered: Promise<Delivered>) {
  const result = await delivered;
  return { status: result.status, headers: new Headers(), body: result.body, text: result.text };
}

describe('GitHub', () => {
  test('a push, re-signed with the pipeline secret, runs exactly that commit; its audit row names the delivery', async () => {
    const { pipelineId, secret } = await pipelineWithSecret();
    const push = githubExample('push', (p) => p.ref === 'refs/heads/master');
    const id = deliveryId();
    const delivered = await deliver('github', pipelineId, 'push', push, secret, { id });
    assert.equal(delivered.status, 201, delivered.text);
    assert.equal(delivered.body?.outcome, 'triggered');
    const run = await shownRun(delivered.body!.run!.id as string);
    assert.deepEqual(pick(run, [...GIT, 'deliveryId']), {
      event: 'push',
      branch: 'master',
      tag: null,
      commitSha: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
      commitMessage: 'Initial commit',
      commitAuthor: 'Codertocat <21031067+Codertocat@users.noreply.github.com>',
      pullRequest: null,
      triggeredBy: 'webhook:github',
      triggeredById: null,
      deliveryId: id,
    });
    const rows = await api.database.prisma.auditLog.findMany({ where: { targetId: run.id as string } });
    assert.equal(rows.length, 1);
    assert.deepEqual(
      pick(rows[0] as unknown as Record<string, unknown>, [
        'action',
        'outcome',
        'organizationId',
        'tenantId',
        'actorUserId',
        'actorApiKeyId',
        'ip',
        'userAgent',
      ]),
      {
        action: 'run.trigger',
        outcome: 'success',
        organizationId: api.world.orgId,
        tenantId: api.world.tenantA,
        actorUserId: null,
        actorApiKeyId: null,
        ip: '192.0.2.7',
        userAgent: 'github-hookshot/test',
      },
    );
    assert.deepEqual(pick(rows[0]!.details as Record<string, unknown>, ['via', 'deliveryId', 'event', 'branch']), {
      via: 'webhook:github',
      deliveryId: id,
      event: 'push',
      branch: 'master',
    });
  });

  test('a replayed delivery starts one run: the second answer is 200 with the same run', async () => {
    const { pipelineId, secret } = await pipelineWithSecret();
    const push = githubExample('push', (p) => p.ref === 'refs/heads/master');
    const id = deliveryId();
    const first = await deliver('github', pipelineId, 'push', push, secret, { id });
    const again = await deliver('github', pipelineId, 'push', push, secret, { id });
    assert.equal(first.status, 201, first.text);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body?.outcome, 'duplicate');
    assert.equal(again.body?.run?.id, first.body?.run?.id);
    // At once, too.
    const concurrentId = deliveryId();
    const both = await Promise.all([1, 2].map(() => deliver('github', pipelineId, 'push', push, secret, { id: concurrentId })));
    assert.deepEqual(both.map((d) => d.status).sort(), [200, 201], both.map((d) => d.text).join('\n'));
    assert.equal(await runCount(pipelineId), 2);
  });

  test('a tag push', async () => {
    const { pipelineId, secret } = await pipelineWithSecret();
    const tag = githubExample('push', (p) => p.ref === 'refs/tags/simple-tag' && p.deleted === false);
    const delivered = await deliver('github', pipelineId, 'push', tag, secret);
    if (!TAGS) {
      // lib/pipeline has no `tag` event yet: nothing runs, and the answer says why.
      assert.equal(delivered.status, 202, delivered.text);
      assert.match(delivered.body!.reason!, /"tag" events start no run/);
      assert.equal(await runCount(pipelineId), 0);
      return;
    }
    assert.equal(delivered.status, 201, delivered.text);
    assert.deepEqual(pick(await shownRun(delivered.body!.run!.id as string), ['event', 'tag', 'branch', 'commitSha']), {
      event: 'tag',
      tag: 'simple-tag',
      branch: null,
      commitSha: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
    });
  });

  test('a pull request opened runs its head commit, with its number and branches', async () => {
    const { pipelineId, secret } = await pipelineWithSecret();
    const pr = githubExample('pull_request', (p) => p.action === 'opened');
    const delivered = await deliver('github', pipelineId, 'pull_request', pr, secret);
    assert.equal(delivered.status, 201, delivered.text);
    assert.deepEqual(pick(await shownRun(delivered.body!.run!.id as string), GIT), {
      event: 'pull_request',
      branch: 'master',
      tag: null,
      commitSha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
      commitMessage: 'Update the README with new information.',
      commitAuthor: 'Codertocat',
      pullRequest: { number: 2, sourceBranch: 'changes', targetBranch: 'master' },
      triggeredBy: 'webhook:github',
      triggeredById: null,
    });
  });

  test('bad or missing signatures are 401 and create nothing', async () => {
    const { pipelineId, secret } = await pipelineWithSecret();
    const push = githubExample('push', (p) => p.ref === 'refs/heads/master');
    assertError(await callAsResult(deliver('github', pipelineId, 'push', push, null)), 401, 'invalid_signature');
    assertError(await callAsResult(deliver('github', pipelineId, 'push', push, 'not the secret')), 401, 'invalid_signature');
    // Signed, then altered.
    const body = JSON.stringify(push);
    const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    const altered = body.replace('Initial commit', 'Initial commit!');
    assertError(
      await callAsResult(deliver('github', pipelineId, 'push', push, null, { rawBody: altered, headers: { 'x-hub-signature-256': signature } })),
      401,
      'invalid_signature',
    );
    // Another forge's scheme with the right secret does not pass for this one.
    assertError(
      await callAsResult(deliver('gitlab', pipelineId, 'Push Hook', fixture('gitlab-push.json'), null, { headers: { 'x-hub-signature-256': signature } })),
      401,
      'invalid_signature',
    );
    assert.equal(await runCount(pipelineId), 0);
  });

  test('an unknown pipeline and a pipeline without a webhook secret are the same 404', async () => {
    const push = githubExample('push', (p) => p.ref === 'refs/heads/master');
    const unknown = await deliver('github', 'ckunknownpipeline0000000', 'push', push, 'whatever');
    const noSecret = await insertPipeline(api.database.prisma, api.world.tenantA, KDL);
    const without = await deliver('github', noSecret, 'push', push, 'whatever');
    assertError(await callAsResult(Promise.resolve(unknown)), 404, 'not_found');
    assertError(await callAsResult(Promise.resolve(without)), 404, 'not_found');
    assert.equal(unknown.text, without.text);
    assert.equal(await runCount(noSecret), 0);
    const { pipelineId, secret } = await pipelineWithSecret();
    assertError(await callAsResult(deliver('bitbucket' as Forge, pipelineId, 'push', push, secret)), 404, 'not_found');
  });

  test('deletions, closed pull requests, pings and events the pipeline does not listen to: 202 with the reason, nothing created', async () => {
    const { pipelineId, secret } = await pipelineWithSecret();
    const deleted = await deliver(
      'github',
      pipelineId,
      'push',
      githubExample('push', (p) => p.deleted === true),
      secret,
    );
    assert.equal(deleted.status, 202, deleted.text);
    assert.deepEqual(deleted.body, { outcome: 'ignored', reason: 'the tag "simple-tag" was deleted: nothing to build', run: null });
    const closed = await deliver(
      'github',
      pipelineId,
      'pull_request',
      githubExample('pull_request', (p) => p.action === 'closed'),
      secret,
    );
    assert.equal(closed.status, 202, closed.text);
    const ping = await deliver(
      'github',
      pipelineId,
      'ping',
      githubExample('ping', () => true),
      secret,
    );
    assert.equal(ping.status, 202, ping.text);
    assert.equal(await runCount(pipelineId), 0);

    const mainOnly = await pipelineWithSecret(MAIN_ONLY);
    const master = await deliver(
      'github',
      mainOnly.pipelineId,
      'push',
      githubExample('push', (p) => p.ref === 'refs/heads/master'),
      mainOnly.secret,
    );
    assert.equal(master.status, 202, master.text);
    assert.match(master.body!.reason!, /branch "master" does not match/);
    const pr = await deliver(
      'github',
      mainOnly.pipelineId,
      'pull_request',
      githubExample('pull_request', (p) => p.action === 'opened'),
      mainOnly.secret,
    );
    assert.equal(pr.status, 202, pr.text);
    assert.match(pr.body!.reason!, /no `on "pull_request"` trigger/);
    assert.equal(await runCount(mainOnly.pipelineId), 0);
  });

  test('a body over 1 MiB is 413 and creates nothing', async () => {
    const { pipelineId, secret } = await pipelineWithSecret();
    const push = { ...githubExample('push', (p) => p.ref === 'refs/heads/master'), padding: 'x'.repeat(1024 * 1024) };
    assertError(await callAsResult(deliver('github', pipelineId, 'push', push, secret)), 413, 'payload_too_large');
    assert.equal(await runCount(pipelineId), 0);
  });
});

describe('GitLab', () => {
  test('push, tag push and merge request', async () => {
    const { pipelineId, secret } = await pipelineWithSecret();
    const push = await deliver('gitlab', pipelineId, 'Push Hook', fixture('gitlab-push.json'), secret);
    assert.equal(push.status, 201, push.text);
    assert.deepEqual(pick(await shownRun(push.body!.run!.id as string), ['event', 'branch', 'commitSha', 'commitMessage', 'commitAuthor', 'triggeredBy']), {
      event: 'push',
      branch: 'master',
      commitSha: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
      commitMessage: 'fixed readme',
      commitAuthor: 'GitLab dev user <gitlabdev@dv6700.(none)>',
      triggeredBy: 'webhook:gitlab',
    });
    const tag = await deliver('gitlab', pipelineId, 'Tag Push Hook', fixture('gitlab-tag-push.json'), secret);
    if (TAGS) {
      assert.equal(tag.status, 201, tag.text);
      assert.deepEqual(pick(await shownRun(tag.body!.run!.id as string), ['event', 'tag', 'commitSha']), {
        event: 'tag',
        tag: 'v1.0.0',
        commitSha: '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7',
      });
    } else assert.equal(tag.status, 202, tag.text);
    const mr = await deliver('gitlab', pipelineId, 'Merge Request Hook', fixture('gitlab-merge-request.json'), secret);
    assert.equal(mr.status, 201, mr.text);
    assert.deepEqual(pick(await shownRun(mr.body!.run!.id as string), ['event', 'branch', 'commitSha', 'pullRequest']), {
      event: 'pull_request',
      branch: 'master',
      commitSha: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
      pullRequest: { number: 1, sourceBranch: 'ms-viewport', targetBranch: 'master' },
    });
    assertError(await callAsResult(deliver('gitlab', pipelineId, 'Push Hook', fixture('gitlab-push.json'), 'wrong')), 401, 'invalid_signature');
    assertError(await callAsResult(deliver('gitlab', pipelineId, 'Push Hook', fixture('gitlab-push.json'), null)), 401, 'invalid_signature');
    assert.equal(await runCount(pipelineId), TAGS ? 3 : 2);
  });
});

describe('Gitea', () => {
  test('push and pull request; a replay and a bad signature create nothing more', async () => {
    const { pipelineId, secret } = await pipelineWithSecret();
    const id = deliveryId();
    const push = await deliver('gitea', pipelineId, 'push', fixture('gitea-push.json'), secret, { id });
    assert.equal(push.status, 201, push.text);
    assert.deepEqual(pick(await shownRun(push.body!.run!.id as string), ['event', 'branch', 'commitSha', 'commitMessage', 'commitAuthor', 'triggeredBy']), {
      event: 'push',
      branch: 'develop',
      commitSha: 'bffeb74224043ba2feb48d137756c8a9331c449a',
      commitMessage: 'Webhooks Yay!',
      commitAuthor: 'Gitea <someone@gitea.io>',
      triggeredBy: 'webhook:gitea',
    });
    assert.equal((await deliver('gitea', pipelineId, 'push', fixture('gitea-push.json'), secret, { id })).status, 200);
    const pr = await deliver('gitea', pipelineId, 'pull_request', fixture('gitea-pull-request.json'), secret);
    assert.equal(pr.status, 201, pr.text);
    assert.deepEqual(pick(await shownRun(pr.body!.run!.id as string), ['event', 'branch', 'commitSha', 'pullRequest', 'commitAuthor']), {
      event: 'pull_request',
      branch: 'master',
      commitSha: '9f1c0cbc8a8b3c0b5b2c9d7f3e9a51b8a6c2d4e1',
      pullRequest: { number: 3, sourceBranch: 'docs', targetBranch: 'master' },
      commitAuthor: 'contributor',
    });
    assertError(await callAsResult(deliver('gitea', pipelineId, 'push', fixture('gitea-push.json'), 'wrong')), 401, 'invalid_signature');
    assert.equal(await runCount(pipelineId), 2);
  });
});
