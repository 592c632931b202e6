/** The forges' payload parsers and signature checks (lib/forges), on GitHub's published examples and GitLab's and Gitea's documented payloads. */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { gitea, github, gitlab, type ParsedDelivery } from '../../lib/forges';
import { fixture, githubExample } from './helpers';

const headers = (entries: Record<string, string>) => new Headers(entries);
/** The event without its status target (checked on its own below). */
const event = (parsed: ParsedDelivery) => {
  assert.equal(parsed.kind, 'event', JSON.stringify(parsed));
  const { statusTarget: _target, ...rest } = (parsed as unknown as { event: Record<string, unknown> }).event;
  return rest;
};
const target = (parsed: ParsedDelivery) => {
  assert.equal(parsed.kind, 'event', JSON.stringify(parsed));
  return (parsed as { event: { statusTarget: unknown } }).event.statusTarget;
};

test('status targets: the forge, its API base and the repository, from the payload', () => {
  const push = githubExample('push', (p) => p.ref === 'refs/heads/master');
  const pr = githubExample('pull_request', (p) => p.action === 'opened');
  const dotcom = { forge: 'github', apiUrl: 'https://api.github.com', repository: 'Codertocat/Hello-World' };
  assert.deepEqual(target(github.parse(headers({ 'x-github-event': 'push' }), push)), dotcom);
  assert.deepEqual(target(github.parse(headers({ 'x-github-event': 'pull_request' }), pr)), dotcom);
  // GitHub Enterprise: the API under /api/v3, from statuses_url; without it, a push's web URL's host.
  const repository = (over: Record<string, unknown>) => ({ ...push, repository: { ...(push.repository as object), ...over } });
  const ghes = repository({ url: 'https://ghe.example.com/o/r', full_name: 'o/r', statuses_url: 'https://ghe.example.com/api/v3/repos/o/r/statuses/{sha}' });
  assert.deepEqual(target(github.parse(headers({ 'x-github-event': 'push' }), ghes)), {
    forge: 'github',
    apiUrl: 'https://ghe.example.com/api/v3',
    repository: 'o/r',
  });
  const bare = repository({ url: 'https://ghe.example.com/o/r', html_url: 'https://ghe.example.com/o/r', full_name: 'o/r', statuses_url: undefined });
  assert.deepEqual(target(github.parse(headers({ 'x-github-event': 'push' }), bare)), {
    forge: 'github',
    apiUrl: 'https://ghe.example.com/api/v3',
    repository: 'o/r',
  });
  assert.equal(target(github.parse(headers({ 'x-github-event': 'push' }), repository({ full_name: undefined }))), null);

  assert.deepEqual(target(gitlab.parse(headers({ 'x-gitlab-event': 'Push Hook' }), fixture('gitlab-push.json'))), {
    forge: 'gitlab',
    apiUrl: 'http://example.com/api/v4',
    repository: '15',
  });
  assert.deepEqual(target(gitlab.parse(headers({ 'x-gitlab-event': 'Merge Request Hook' }), fixture('gitlab-merge-request.json'))), {
    forge: 'gitlab',
    apiUrl: 'http://example.com/api/v4',
    repository: '1',
  });
  const underPath = { ...fixture('gitlab-push.json'), project: { id: 7, web_url: 'https://example.com/gitlab/group/app', path_with_namespace: 'group/app' } };
  assert.deepEqual(target(gitlab.parse(headers({ 'x-gitlab-event': 'Push Hook' }), underPath)), {
    forge: 'gitlab',
    apiUrl: 'https://example.com/gitlab/api/v4',
    repository: '7',
  });

  for (const [name, event] of [
    ['gitea-push.json', 'push'],
    ['gitea-pull-request.json', 'pull_request'],
  ] as const) {
    assert.deepEqual(target(gitea.parse(headers({ 'x-gitea-event': event }), fixture(name))), {
      forge: 'gitea',
      apiUrl: 'http://localhost:3000/api/v1',
      repository: 'gitea/webhooks',
    });
  }
});

test('GitHub: a branch push, a tag push, a deletion, pull requests, a ping', () => {
  const push = githubExample('push', (p) => p.ref === 'refs/heads/master');
  assert.deepEqual(event(github.parse(headers({ 'x-github-event': 'push' }), push)), {
    event: 'push',
    branch: 'master',
    before: null, // the branch's first push: `before` is all zeros
    sha: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
    message: 'Initial commit',
    author: 'Codertocat <21031067+Codertocat@users.noreply.github.com>',
  });
  const tag = githubExample('push', (p) => p.ref === 'refs/tags/simple-tag' && p.deleted === false);
  assert.deepEqual(event(github.parse(headers({ 'x-github-event': 'push' }), tag)), {
    event: 'tag',
    tag: 'simple-tag',
    sha: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
    message: 'Adding a .gitignore file',
    author: 'Codertocat <21031067+Codertocat@users.noreply.github.com>',
  });
  const deleted = githubExample('push', (p) => p.deleted === true);
  assert.deepEqual(github.parse(headers({ 'x-github-event': 'push' }), deleted), {
    kind: 'ignored',
    reason: 'the tag "simple-tag" was deleted: nothing to build',
  });
  for (const action of ['opened', 'synchronize', 'reopened']) {
    const pr = githubExample('pull_request', (p) => p.action === action);
    assert.deepEqual(event(github.parse(headers({ 'x-github-event': 'pull_request' }), pr)), {
      event: 'pull_request',
      number: 2,
      sha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
      sourceBranch: 'changes',
      targetBranch: 'master',
      message: 'Update the README with new information.',
      author: 'Codertocat',
    });
  }
  const closed = github.parse(
    headers({ 'x-github-event': 'pull_request' }),
    githubExample('pull_request', (p) => p.action === 'closed'),
  );
  assert.equal(closed.kind, 'ignored');
  assert.deepEqual(
    github.parse(
      headers({ 'x-github-event': 'ping' }),
      githubExample('ping', () => true),
    ),
    { kind: 'ignored', reason: 'ping: the webhook works' },
  );
  assert.equal(github.parse(headers({ 'x-github-event': 'issues' }), {}).kind, 'ignored');
});

test('GitLab: push, tag push, merge request opened, updated with and without new commits, closed', () => {
  assert.deepEqual(event(gitlab.parse(headers({ 'x-gitlab-event': 'Push Hook' }), fixture('gitlab-push.json'))), {
    event: 'push',
    branch: 'master',
    before: '95790bf891e76fee5e1747ab589903a6a1f80f22',
    sha: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
    message: 'fixed readme',
    author: 'GitLab dev user <gitlabdev@dv6700.(none)>',
  });
  // A tag push lists no commits: the pusher is the author we know.
  assert.deepEqual(event(gitlab.parse(headers({ 'x-gitlab-event': 'Tag Push Hook' }), fixture('gitlab-tag-push.json'))), {
    event: 'tag',
    tag: 'v1.0.0',
    sha: '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7',
    message: null,
    author: 'John Smith',
  });
  // An annotated tag: `after` is the tag object, `checkout_sha` the commit it tags, which the run is of.
  const annotated = { ...(fixture('gitlab-tag-push.json') as object), after: 'f'.repeat(40), checkout_sha: '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7' };
  assert.equal(
    (event(gitlab.parse(headers({ 'x-gitlab-event': 'Tag Push Hook' }), annotated)) as { sha: string }).sha,
    '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7',
  );
  const mr = fixture('gitlab-merge-request.json') as { object_attributes: Record<string, unknown> };
  const expected = {
    event: 'pull_request',
    number: 1,
    sha: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
    sourceBranch: 'ms-viewport',
    targetBranch: 'master',
    message: 'MS-Viewport',
    author: 'root',
  };
  assert.deepEqual(event(gitlab.parse(headers({ 'x-gitlab-event': 'Merge Request Hook' }), mr)), expected);
  const update = { ...mr, object_attributes: { ...mr.object_attributes, action: 'update' } };
  assert.equal(gitlab.parse(headers({ 'x-gitlab-event': 'Merge Request Hook' }), update).kind, 'ignored');
  const pushedTo = { ...mr, object_attributes: { ...mr.object_attributes, action: 'update', oldrev: '95790bf891e76fee5e1747ab589903a6a1f80f22' } };
  assert.deepEqual(event(gitlab.parse(headers({ 'x-gitlab-event': 'Merge Request Hook' }), pushedTo)), expected);
  const closed = { ...mr, object_attributes: { ...mr.object_attributes, action: 'close' } };
  assert.equal(gitlab.parse(headers({ 'x-gitlab-event': 'Merge Request Hook' }), closed).kind, 'ignored');
  const deleted = { ...(fixture('gitlab-push.json') as object), after: '0000000000000000000000000000000000000000', checkout_sha: null, commits: [] };
  assert.deepEqual(gitlab.parse(headers({ 'x-gitlab-event': 'Push Hook' }), deleted), {
    kind: 'ignored',
    reason: 'the branch "master" was deleted: nothing to build',
  });
});

test('Gitea: push, pull request opened and synchronized, create/delete events ignored', () => {
  assert.deepEqual(event(gitea.parse(headers({ 'x-gitea-event': 'push' }), fixture('gitea-push.json'))), {
    event: 'push',
    branch: 'develop',
    before: '28e1879d029cb852e4844d9c718537df08844e03',
    sha: 'bffeb74224043ba2feb48d137756c8a9331c449a',
    message: 'Webhooks Yay!',
    author: 'Gitea <someone@gitea.io>',
  });
  const pr = fixture('gitea-pull-request.json') as Record<string, unknown>;
  for (const action of ['opened', 'synchronized', 'reopened']) {
    assert.deepEqual(event(gitea.parse(headers({ 'x-gitea-event': 'pull_request' }), { ...pr, action })), {
      event: 'pull_request',
      number: 3,
      sha: '9f1c0cbc8a8b3c0b5b2c9d7f3e9a51b8a6c2d4e1',
      sourceBranch: 'docs',
      targetBranch: 'master',
      message: 'Add the webhook docs',
      author: 'contributor',
    });
  }
  assert.equal(gitea.parse(headers({ 'x-gitea-event': 'pull_request' }), { ...pr, action: 'closed' }).kind, 'ignored');
  assert.equal(gitea.parse(headers({ 'x-gitea-event': 'create' }), {}).kind, 'ignored');
  assert.equal(gitea.parse(headers({ 'x-gitea-event': 'delete' }), {}).kind, 'ignored');
});

test('signatures: each forge its own scheme; a wrong, missing or other-secret signature fails', () => {
  const body = new TextEncoder().encode('{"a":1}');
  const hex = createHmac('sha256', 's3cret').update(body).digest('hex');
  assert.equal(github.verify(headers({ 'x-hub-signature-256': `sha256=${hex}` }), body, 's3cret'), true);
  assert.equal(github.verify(headers({ 'x-hub-signature-256': `sha256=${hex}` }), body, 'other'), false);
  assert.equal(github.verify(headers({ 'x-hub-signature-256': hex }), body, 's3cret'), false);
  assert.equal(github.verify(headers({}), body, 's3cret'), false);
  assert.equal(gitea.verify(headers({ 'x-gitea-signature': hex }), body, 's3cret'), true);
  assert.equal(gitea.verify(headers({ 'x-gitea-signature': hex }), new TextEncoder().encode('{"a":2}'), 's3cret'), false);
  assert.equal(gitea.verify(headers({}), body, 's3cret'), false);
  assert.equal(gitlab.verify(headers({ 'x-gitlab-token': 's3cret' }), body, 's3cret'), true);
  assert.equal(gitlab.verify(headers({ 'x-gitlab-token': 's3cre' }), body, 's3cret'), false);
  assert.equal(gitlab.verify(headers({}), body, 's3cret'), false);
});
