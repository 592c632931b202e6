/**
 * Issue 13's acceptance test, end to end with real git, PostgreSQL and Docker: a forge's delivery (GitHub's
 * published examples from @octokit/webhooks-examples, GitLab's and Gitea's documented payloads) rewritten to
 * name commits of a repository made here and served by `git daemon` on 127.0.0.1, signed with the pipeline's
 * webhook secret and given to the webhook route handler; the run it creates is executed by the worker's `run`
 * job, and its stages show that exactly the delivered commit was checked out (not the branch's head).
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { runPipelineJob } from '../../worker/jobs/run-pipeline';
import { call, routeHandler, useApiWorld } from '../api/helpers';
import { dockerOrSkip, TEST_IMAGE } from '../support/engines';
import { RecordingPublisher, runJob, storedLog } from '../runs/helpers';
import { fixture, githubExample } from '../webhooks/helpers';
import { commitFiles, createRepository, git, startGitDaemon, type GitDaemon } from './support';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'buildit-webhook-checkout-'));
process.env.BUILDIT_DATA_DIR = dataDir; // the trigger's mirror (lib/source/trigger.ts) and the worker share it
process.env.BUILDIT_SECRET_KEY = randomBytes(32).toString('base64');
process.env.BUILDIT_PUBLIC_URL = 'https://ci.example.test/';

const api = useApiWorld();
let daemon: GitDaemon;
const reposDir = path.join(dataDir, 'repos');

before(async () => {
  daemon = await startGitDaemon(reposDir);
});

after(async () => {
  await daemon?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Stored with the pipeline: every push, tag and pull request; prints the commit, a file and the git context. */
const STORED = `pipeline "hooks" {
    on "push"
    on "tag"
    on "pull_request"
}

stage "show" {
    image "${TEST_IMAGE}"
    run "cat .git/HEAD"
    run "cat hello.txt"
    run "echo sha=\${git.sha} branch=\${git.branch} tag=\${git.tag}"
}

stage "rev" {
    executor "local"
    run "git rev-parse HEAD"
}
`;

type Forge = 'github' | 'gitlab' | 'gitea';
type Payload = Record<string, unknown>;

let deliveries = 0;
const newDeliveryId = () => `checkout-${process.pid}-${++deliveries}`;

/** The headers a forge sends with `body`, signed (GitLab: tokened) with `secret`. */
function signedHeaders(forge: Forge, event: string, body: string, secret: string, id: string): Record<string, string> {
  const hex = createHmac('sha256', secret).update(body).digest('hex');
  switch (forge) {
    case 'github':
      return { 'x-github-event': event, 'x-github-delivery': id, 'x-hub-signature-256': `sha256=${hex}` };
    case 'gitlab':
      return { 'x-gitlab-event': event, 'x-gitlab-event-uuid': id, 'x-gitlab-token': secret };
    case 'gitea':
      return { 'x-gitea-event': event, 'x-gitea-delivery': id, 'x-gitea-signature': hex };
  }
}

interface Delivered {
  status: number;
  text: string;
  body: { outcome: string; reason: string | null; run: { id: string } | null } | null;
}

async function deliver(forge: Forge, pipelineId: string, event: string, payload: Payload, secret: string, id = newDeliveryId()): Promise<Delivered> {
  const body = JSON.stringify(payload);
  const result = await call(await routeHandler('POST', '/api/v1/webhooks/{forge}/{pipelineId}'), 'POST', `/api/v1/webhooks/${forge}/${pipelineId}`, {
    rawBody: body,
    headers: { 'content-type': 'application/json', 'user-agent': `${forge}-hookshot/test`, ...signedHeaders(forge, event, body, secret, id) },
    params: { forge, pipelineId },
  });
  return result as Delivered;
}

let slugs = 0;
/** A pipeline of tenant A on the daemon's repository `name` (config null: read from the repository), with its webhook secret. */
async function pipelineOn(name: string, config: string | null): Promise<{ pipelineId: string; secret: string }> {
  const { prisma } = api.database;
  const pipeline = await prisma.pipeline.create({
    data: { tenantId: api.world.tenantA, name: 'hooks', slug: `hooks-${process.pid}-${++slugs}`, config, repository: daemon.url(name) },
  });
  const created = await call(await routeHandler('POST', '/api/v1/pipelines/{pipelineId}/webhook-secret'), 'POST', '/', {
    token: api.world.adminA.token,
    params: { pipelineId: pipeline.id },
  });
  assert.equal(created.status, 201, created.text);
  return { pipelineId: pipeline.id, secret: (created.body as { secret: string }).secret };
}

/** The run as the runs API shows it. */
async function shownRun(runId: string): Promise<Record<string, unknown>> {
  const shown = await call(await routeHandler('GET', '/api/v1/runs/{runId}'), 'GET', '/', { token: api.world.owner.token, params: { runId } });
  assert.equal(shown.status, 200, shown.text);
  return shown.body as Record<string, unknown>;
}

const pick = (run: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((key) => [key, run[key]]));

async function logOf(runId: string, stageId: string): Promise<string> {
  const row = await api.database.prisma.stageRun.findFirstOrThrow({ where: { runId, stageId } });
  return (await storedLog(api.database.prisma, row.id)).text;
}

/** Executes the run as the worker's `run` job does; answers the stages' logs. */
async function execute(runId: string): Promise<{ show: string; rev: string; checkout: string }> {
  const { prisma } = api.database;
  const outcome = await runPipelineJob(
    runJob(runId),
    { signal: new AbortController().signal },
    {
      prisma,
      publisher: new RecordingPublisher(prisma),
      dataDir,
      cancelPollMs: 200,
      logger: pino({ level: 'silent' }),
      executorNames: ['docker', 'local'],
    },
  );
  assert.equal(outcome.kind, 'ran');
  const done = await prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId }, include: { stages: true } });
  assert.equal(done.status, 'succeeded', JSON.stringify(done.stages.map((s) => [s.stageId, s.status, s.reason])));
  return { show: await logOf(runId, 'show'), rev: await logOf(runId, 'rev'), checkout: await logOf(runId, '@checkout') };
}

/** `sha` was checked out: the container's detached .git/HEAD, `${git.sha}` and `git rev-parse HEAD` on the host. */
function assertCheckedOut(logs: { show: string; rev: string; checkout: string }, sha: string, content: string): void {
  assert.match(logs.show, new RegExp(`^${sha}$`, 'm'), 'the container sees the delivered commit (.git/HEAD, detached)');
  assert.match(logs.show, new RegExp(`^${content}$`, 'm'), 'the file as it is at that commit');
  assert.match(logs.show, new RegExp(`^sha=${sha} `, 'm'));
  assert.match(logs.rev, new RegExp(`^${sha}$`, 'm'), 'git rev-parse HEAD in the workspace');
  assert.match(logs.checkout, new RegExp(`checked out ${sha}`));
}

describe('a delivery runs exactly the commit it names, checked out from the repository', () => {
  let repo: string;
  /** main: tagged (v1.0.0) → pushed → later (main's head); feature (from pushed): the pull request's head. */
  const sha = { tagged: '', pushed: '', later: '', feature: '' };
  let pipelineId: string;
  let secret: string;

  before(async () => {
    repo = path.join(reposDir, 'hooks.git');
    sha.tagged = createRepository(repo, { 'hello.txt': 'release 1.0.0\n' }, 'release 1.0.0');
    git(repo, 'tag', 'v1.0.0');
    sha.pushed = commitFiles(repo, { 'hello.txt': 'the pushed commit\n' }, 'the pushed commit');
    git(repo, 'checkout', '--quiet', '-b', 'feature');
    sha.feature = commitFiles(repo, { 'hello.txt': 'the feature branch\n' }, 'work on the feature');
    git(repo, 'checkout', '--quiet', 'main');
    // After the push was delivered, main moved on: a checkout of the branch instead of the sha would show this.
    sha.later = commitFiles(repo, { 'hello.txt': 'a later commit\n' }, 'a later commit');
    ({ pipelineId, secret } = await pipelineOn('hooks.git', STORED));
  });

  test("GitHub push: GitHub's example rewritten to a commit of the repository that is no longer the branch's head", async (t) => {
    if (!(await dockerOrSkip(t))) return;
    const example = githubExample('push', (p) => p.ref === 'refs/heads/master');
    const push = { ...example, ref: 'refs/heads/main', after: sha.pushed, head_commit: { ...(example.head_commit as Payload), id: sha.pushed } };
    const delivered = await deliver('github', pipelineId, 'push', push, secret);
    assert.equal(delivered.status, 201, delivered.text);
    const runId = delivered.body!.run!.id;
    assert.deepEqual(pick(await shownRun(runId), ['event', 'branch', 'tag', 'commitSha', 'triggeredBy']), {
      event: 'push',
      branch: 'main',
      tag: null,
      commitSha: sha.pushed,
      triggeredBy: 'webhook:github',
    });
    const logs = await execute(runId);
    assertCheckedOut(logs, sha.pushed, 'the pushed commit');
    assert.doesNotMatch(logs.show, /a later commit/);
    assert.match(logs.show, /^sha=\S+ branch=main tag=$/m);
  });

  test('GitHub tag push: event tag, ${git.tag} and the tagged commit', async (t) => {
    if (!(await dockerOrSkip(t))) return;
    const example = githubExample('push', (p) => p.ref === 'refs/tags/simple-tag' && p.deleted === false);
    const push = { ...example, ref: 'refs/tags/v1.0.0', after: sha.tagged, head_commit: { ...(example.head_commit as Payload), id: sha.tagged } };
    const delivered = await deliver('github', pipelineId, 'push', push, secret);
    assert.equal(delivered.status, 201, delivered.text);
    const runId = delivered.body!.run!.id;
    assert.deepEqual(pick(await shownRun(runId), ['event', 'branch', 'tag', 'commitSha']), {
      event: 'tag',
      branch: null,
      tag: 'v1.0.0',
      commitSha: sha.tagged,
    });
    const logs = await execute(runId);
    assertCheckedOut(logs, sha.tagged, 'release 1.0.0');
    assert.match(logs.show, /^sha=\S+ branch= tag=v1\.0\.0$/m, '${git.tag} is the pushed tag');
  });

  test("GitHub push of an annotated tag (`after` is the tag object, head_commit its commit): the run is of the tag's commit", async (t) => {
    if (!(await dockerOrSkip(t))) return;
    git(repo, 'tag', '--annotate', '--message', 'release 2.0.0', 'v2.0.0', sha.pushed);
    const tagObject = git(repo, 'rev-parse', 'v2.0.0');
    assert.notEqual(tagObject, sha.pushed);
    const example = githubExample('push', (p) => p.ref === 'refs/tags/simple-tag' && p.deleted === false);
    const push = { ...example, ref: 'refs/tags/v2.0.0', after: tagObject, head_commit: { ...(example.head_commit as Payload), id: sha.pushed } };
    const delivered = await deliver('github', pipelineId, 'push', push, secret);
    assert.equal(delivered.status, 201, delivered.text);
    const runId = delivered.body!.run!.id;
    assert.deepEqual(pick(await shownRun(runId), ['event', 'tag', 'commitSha']), { event: 'tag', tag: 'v2.0.0', commitSha: sha.pushed });
    const logs = await execute(runId);
    assert.match(logs.show, new RegExp(`^${sha.pushed}$`, 'm'), 'the container sees the tagged commit');
    assert.match(logs.show, /^the pushed commit$/m);
    assert.match(logs.rev, new RegExp(`^${sha.pushed}$`, 'm'));
    assert.match(logs.show, new RegExp(`^sha=${sha.pushed} branch= tag=v2\\.0\\.0$`, 'm'), '${git.sha} is the commit, not the tag object');
  });

  test('GitHub pull request opened: the head commit of the feature branch, the number on the run', async (t) => {
    if (!(await dockerOrSkip(t))) return;
    const example = githubExample('pull_request', (p) => p.action === 'opened');
    const pr = example.pull_request as Payload;
    const opened = {
      ...example,
      pull_request: {
        ...pr,
        head: { ...(pr.head as Payload), ref: 'feature', sha: sha.feature },
        base: { ...(pr.base as Payload), ref: 'main', sha: sha.pushed },
      },
    };
    const delivered = await deliver('github', pipelineId, 'pull_request', opened, secret);
    assert.equal(delivered.status, 201, delivered.text);
    const runId = delivered.body!.run!.id;
    assert.deepEqual(pick(await shownRun(runId), ['event', 'branch', 'commitSha', 'commitMessage', 'pullRequest']), {
      event: 'pull_request',
      branch: 'main',
      commitSha: sha.feature,
      commitMessage: 'Update the README with new information.',
      pullRequest: { number: 2, sourceBranch: 'feature', targetBranch: 'main' },
    });
    const logs = await execute(runId);
    assertCheckedOut(logs, sha.feature, 'the feature branch');
  });

  test('GitLab push (X-Gitlab-Token) and Gitea push (X-Gitea-Signature): each runs its commit', async (t) => {
    if (!(await dockerOrSkip(t))) return;
    const gitlabFixture = fixture('gitlab-push.json');
    const gitlabCommits = gitlabFixture.commits as Payload[];
    const gitlabPush = {
      ...gitlabFixture,
      ref: 'refs/heads/main',
      after: sha.pushed,
      checkout_sha: sha.pushed,
      commits: gitlabCommits.map((commit, i) => (i === gitlabCommits.length - 1 ? { ...commit, id: sha.pushed } : commit)),
    };
    const gitlab = await deliver('gitlab', pipelineId, 'Push Hook', gitlabPush, secret);
    assert.equal(gitlab.status, 201, gitlab.text);
    assert.deepEqual(pick(await shownRun(gitlab.body!.run!.id), ['event', 'branch', 'commitSha', 'commitMessage', 'triggeredBy']), {
      event: 'push',
      branch: 'main',
      commitSha: sha.pushed,
      commitMessage: 'fixed readme',
      triggeredBy: 'webhook:gitlab',
    });
    assertCheckedOut(await execute(gitlab.body!.run!.id), sha.pushed, 'the pushed commit');

    const giteaFixture = fixture('gitea-push.json');
    const giteaPush = {
      ...giteaFixture,
      ref: 'refs/heads/feature',
      after: sha.feature,
      commits: (giteaFixture.commits as Payload[]).map((commit) => ({ ...commit, id: sha.feature })),
    };
    const gitea = await deliver('gitea', pipelineId, 'push', giteaPush, secret);
    assert.equal(gitea.status, 201, gitea.text);
    assert.deepEqual(pick(await shownRun(gitea.body!.run!.id), ['event', 'branch', 'commitSha', 'commitMessage', 'triggeredBy']), {
      event: 'push',
      branch: 'feature',
      commitSha: sha.feature,
      commitMessage: 'Webhooks Yay!',
      triggeredBy: 'webhook:gitea',
    });
    const logs = await execute(gitea.body!.run!.id);
    assertCheckedOut(logs, sha.feature, 'the feature branch');
    assert.match(logs.show, /^sha=\S+ branch=feature tag=$/m);
  });
});

test('config read from the repository: an invalid buildit.kdl at the delivered commit fails the run with the diagnostics; a replay is the same run', async () => {
  const repo = path.join(reposDir, 'from-repo.git');
  createRepository(repo, { 'buildit.kdl': STORED, 'hello.txt': 'valid\n' }, 'a valid pipeline');
  const broken = commitFiles(repo, { 'buildit.kdl': 'pipeline "hooks" {\n    on "push"\n}\nstage "x" {\n    nonsense 1\n}\n' }, 'break the pipeline');
  commitFiles(repo, { 'buildit.kdl': STORED }, 'fix the pipeline'); // main's head is valid again: only the delivered sha is broken
  const { pipelineId, secret } = await pipelineOn('from-repo.git', null);

  const example = githubExample('push', (p) => p.ref === 'refs/heads/master');
  const push = { ...example, ref: 'refs/heads/main', after: broken, head_commit: { ...(example.head_commit as Payload), id: broken } };
  const id = newDeliveryId();
  const delivered = await deliver('github', pipelineId, 'push', push, secret, id);
  assert.equal(delivered.status, 201, delivered.text);
  const runId = delivered.body!.run!.id;
  const run = await shownRun(runId);
  assert.deepEqual(pick(run, ['status', 'event', 'commitSha', 'deliveryId']), { status: 'failed', event: 'push', commitSha: broken, deliveryId: id });

  const { prisma } = api.database;
  const entries = await prisma.stageRun.findMany({ where: { runId } });
  assert.deepEqual(
    entries.map((s) => s.stageId),
    ['@config'],
    'nothing to execute: one config entry',
  );
  assert.match(entries[0]!.reason ?? '', /buildit\.kdl at [0-9a-f]{40} is invalid/);
  assert.match(await logOf(runId, '@config'), /^buildit\.kdl:5:\d+: error: /m, 'the diagnostics, FILE:LINE:COL');
  assert.equal(await prisma.job.count({ where: { dedupeKey: `run:${runId}` } }), 0, 'no job');

  const replayed = await deliver('github', pipelineId, 'push', push, secret, id);
  assert.equal(replayed.status, 200, replayed.text);
  assert.equal(replayed.body?.outcome, 'duplicate');
  assert.equal(replayed.body?.run?.id, runId);
  assert.equal(await prisma.pipelineRun.count({ where: { pipelineId } }), 1, 'still exactly one run');
});
