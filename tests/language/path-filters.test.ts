/**
 * Path filters end to end with real git commits: GitHub push deliveries through the webhook route (real
 * PostgreSQL), changed files computed from the repository (before..after), the run executed by the
 * worker's run job on the Docker engine; and the trigger API with `changedFiles`.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import pino from 'pino';
import { runPipelineJob } from '../../worker/jobs/run-pipeline';
import { call, routeHandler, useApiWorld } from '../api/helpers';
import { dockerOrSkip } from '../support/engines';
import { exampleText } from '../support/language-runs';
import { RecordingPublisher, runJob, storedLog } from '../runs/helpers';
import { githubExample } from '../webhooks/helpers';
import { commitFiles, createRepository, git } from '../checkout/support';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'buildit-path-filters-'));
process.env.BUILDIT_DATA_DIR = dataDir; // the trigger's mirror and the worker share it
process.env.BUILDIT_SECRET_KEY = randomBytes(32).toString('base64');
process.env.BUILDIT_FILE_REPOSITORIES = 'on'; // the repository here is a file:// one

const api = useApiWorld();

after(() => rmSync(dataDir, { recursive: true, force: true }));

let deliveries = 0;
async function deliverPush(pipelineId: string, secret: string, before: string, afterSha: string, branch = 'main') {
  const example = githubExample('push', (p) => p.ref === 'refs/heads/master');
  const payload = { ...example, ref: `refs/heads/${branch}`, before, after: afterSha, head_commit: { ...(example.head_commit as object), id: afterSha } };
  const body = JSON.stringify(payload);
  const hex = createHmac('sha256', secret).update(body).digest('hex');
  return call(await routeHandler('POST', '/api/v1/webhooks/{forge}/{pipelineId}'), 'POST', `/api/v1/webhooks/github/${pipelineId}`, {
    rawBody: body,
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': `paths-${process.pid}-${++deliveries}`,
      'x-hub-signature-256': `sha256=${hex}`,
    },
    params: { forge: 'github', pipelineId },
  });
}

/** A pipeline of the repository at `repo`, and the secret of its webhook. */
async function pipelineWithWebhook(name: string, repo: string) {
  const pipeline = await api.database.prisma.pipeline.create({
    data: { tenantId: api.world.tenantA, name, slug: name, repository: `file://${repo}` },
  });
  const created = await call(await routeHandler('POST', '/api/v1/pipelines/{pipelineId}/webhook-secret'), 'POST', '/', {
    token: api.world.adminA.token,
    params: { pipelineId: pipeline.id },
  });
  return { pipeline, secret: (created.body as { secret: string }).secret };
}

test('a push that changes nothing the pipeline watches makes no run and says why; a related push runs the matching stage only', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  const { prisma } = api.database;
  const repo = path.join(dataDir, 'repos', 'app');
  const first = createRepository(repo, { 'buildit.kdl': await exampleText('path-filters'), 'src/app.txt': 'v1\n', 'README.md': 'hello\n' });
  const readme = commitFiles(repo, { 'README.md': 'hello again\n' }, 'only the readme');
  const source = commitFiles(repo, { 'src/app.txt': 'v2\n' }, 'the source');
  const { pipeline, secret } = await pipelineWithWebhook('paths', repo);

  const unrelated = await deliverPush(pipeline.id, secret, first, readme);
  assert.equal(unrelated.status, 202, unrelated.text);
  assert.deepEqual(unrelated.body, {
    outcome: 'ignored',
    reason: 'no changed file matches the `on "push"` path filter "src/**", "docs/**", "!docs/drafts/**" (1 file changed: README.md)',
    run: null,
  });
  assert.equal(await prisma.pipelineRun.count({ where: { pipelineId: pipeline.id } }), 0);

  const related = await deliverPush(pipeline.id, secret, readme, source);
  assert.equal(related.status, 201, related.text);
  const runId = (related.body as { run: { id: string } }).run.id;
  await runPipelineJob(
    runJob(runId),
    { signal: new AbortController().signal },
    {
      prisma,
      publisher: new RecordingPublisher(prisma),
      dataDir,
      logger: pino({ level: 'silent' }),
    },
  );
  const stages = await prisma.stageRun.findMany({ where: { runId } });
  const status = Object.fromEntries(stages.map((s) => [s.stageId, [s.status, s.reason]]));
  assert.deepEqual(status.test, ['succeeded', null]);
  assert.deepEqual(status.docs, ['skipped', 'when changes="docs/**": no changed file matches (1 file changed: src/app.txt)']);
  assert.deepEqual((await storedLog(prisma, stages.find((s) => s.stageId === 'test')!.id)).lines, ['testing the source']);
});

test("the first push of a branch is compared with the default branch: all the branch's commits count", async () => {
  const { prisma } = api.database;
  const repo = path.join(dataDir, 'repos', 'branch');
  createRepository(repo, { 'buildit.kdl': await exampleText('path-filters'), 'src/app.txt': 'v1\n', 'README.md': 'hello\n' });
  git(repo, 'checkout', '--quiet', '-b', 'feature');
  commitFiles(repo, { 'README.md': 'hello again\n' }, 'the readme');
  const head = commitFiles(repo, { 'docs/guide.md': 'how to\n' }, 'a guide');
  const { pipeline, secret } = await pipelineWithWebhook('branch', repo);

  const pushed = await deliverPush(pipeline.id, secret, '0'.repeat(40), head, 'feature');
  assert.equal(pushed.status, 201, pushed.text);
  const runId = (pushed.body as { run: { id: string } }).run.id;
  const stages = await prisma.stageRun.findMany({ where: { runId, stageId: { in: ['test', 'docs'] } } });
  assert.deepEqual(Object.fromEntries(stages.map((s) => [s.stageId, [s.status, s.reason]])), {
    test: ['skipped', 'when changes="src/**": no changed file matches (2 files changed: README.md, docs/guide.md)'],
    docs: ['pending', null],
  });
});

test('the trigger API takes the changed files, and refuses changedSince without a repository', async () => {
  const { prisma } = api.database;
  const config = (await exampleText('path-filters')).replace(/ paths="[^\n]*/g, '');
  const pipeline = await prisma.pipeline.create({ data: { tenantId: api.world.tenantA, name: 'stored', slug: 'stored', config } });
  const trigger = async (body: unknown) =>
    call(await routeHandler('POST', '/api/v1/pipelines/{pipelineId}/runs'), 'POST', '/', {
      token: api.world.memberA.token,
      params: { pipelineId: pipeline.id },
      body,
    });
  const run = await trigger({ event: 'push', branch: 'main', changedFiles: ['docs/guide.md'] });
  assert.equal(run.status, 201, run.text);
  const stages = (run.body as { stages: Array<{ stageId: string; status: string }> }).stages;
  assert.deepEqual(Object.fromEntries(stages.map((s) => [s.stageId, s.status])), { test: 'skipped', docs: 'pending' });
  const refused = await trigger({ event: 'push', branch: 'main', changedSince: 'main' });
  assert.equal(refused.status, 422, refused.text);
});
