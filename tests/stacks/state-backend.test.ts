/**
 * The real terraform CLI against BuildIt's HTTP state backend, from outside (over HTTP, as on a laptop, with
 * the backend's default LOCK/UNLOCK methods): two applies at once → exactly one proceeds and the other fails
 * "already locked"; force-unlock works and is audited; a POST without the lock ID is refused; every apply
 * adds one state version; Basic auth and tenant isolation.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createUserWithToken, useApiWorld, type SeededUser } from '../api/helpers';
import { startTestRouter, type TestRouter } from '../support/api-router';
import { stackConfig, terraform, terraformDir, terraformOrSkip } from './terraform';

process.env.BUILDIT_SECRET_KEY = randomBytes(32).toString('base64');

let router: TestRouter;
let stackId = '';
let applier: SeededUser;
let reader: SeededUser;

const api = useApiWorld(async ({ database: { prisma }, world }) => {
  stackId = (await prisma.stack.create({ data: { tenantId: world.tenantA, name: 'network', slug: 'network' } })).id;
  applier = await createUserWithToken(prisma, {
    organizationId: world.orgId,
    orgRole: 'member',
    tenantRoles: { [world.tenantA]: 'admin' },
    scopes: ['stacks:apply'],
  });
  reader = await createUserWithToken(prisma, { organizationId: world.orgId, orgRole: 'member', tenantRoles: { [world.tenantA]: 'admin' }, scopes: ['read'] });
});
before(async () => {
  router = await startTestRouter();
});
after(() => router?.stop());

const stateUrl = () => `${router.url}/api/v1/stacks/${stackId}/state`;
const basic = (password: string) => `Basic ${Buffer.from(`me:${password}`).toString('base64')}`;

function backendEnv(password: string): Record<string, string> {
  // Terraform locks only when it has a lock address; LOCK/UNLOCK on the state's own URL are its defaults.
  return {
    TF_HTTP_ADDRESS: stateUrl(),
    TF_HTTP_LOCK_ADDRESS: stateUrl(),
    TF_HTTP_UNLOCK_ADDRESS: stateUrl(),
    TF_HTTP_USERNAME: 'me',
    TF_HTTP_PASSWORD: password,
  };
}

const versions = () => api.database.prisma.stateVersion.count({ where: { stackId } });

test('two terraform apply at once: exactly one proceeds, the other fails "already locked"; each apply adds one version', async (t) => {
  const binary = terraformOrSkip(t);
  if (!binary) return;
  const { dir, env } = terraformDir({ 'main.tf': stackConfig({ sleepSeconds: 2 }) });
  const tfEnv = { ...env, ...backendEnv(applier.token) };
  const init = await terraform(binary, dir, ['init', '-input=false'], tfEnv);
  assert.equal(init.code, 0, init.stderr);

  const [first, second] = await Promise.all([
    terraform(binary, dir, ['apply', '-auto-approve', '-input=false', '-var', 'label=one'], tfEnv),
    terraform(binary, dir, ['apply', '-auto-approve', '-input=false', '-var', 'label=one'], tfEnv),
  ]);
  const results = [first, second];
  assert.equal(results.filter((r) => r.code === 0).length, 1, results.map((r) => r.stderr).join('\n---\n'));
  const loser = results.find((r) => r.code !== 0)!;
  assert.match(loser.stderr, /already locked/);
  assert.equal(await versions(), 1);
  assert.equal(await api.database.prisma.stateLock.count({ where: { stackId } }), 0, 'the winner released its lock');

  const again = await terraform(binary, dir, ['apply', '-auto-approve', '-input=false', '-var', 'label=two'], tfEnv);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(await versions(), 2);
  const output = await terraform(binary, dir, ['output', '-raw', 'label'], tfEnv);
  assert.equal(output.stdout, 'two');
});

test('a held lock: terraform fails "already locked" and names the holder lock; force-unlock releases it, audited', async (t) => {
  const binary = terraformOrSkip(t);
  if (!binary) return;
  const lock = {
    ID: 'c0ffee00-0000-4000-8000-000000000001',
    Operation: 'OperationTypeApply',
    Who: 'someone@laptop',
    Version: '1.11.4',
    Created: new Date().toISOString(),
    Info: '',
    Path: '',
  };
  const locked = await fetch(stateUrl(), {
    method: 'LOCK',
    headers: { authorization: basic(applier.token), 'content-type': 'application/json' },
    body: JSON.stringify(lock),
  });
  assert.equal(locked.status, 200, await locked.text());
  const twice = await fetch(stateUrl(), { method: 'LOCK', headers: { authorization: basic(applier.token) }, body: JSON.stringify({ ...lock, ID: 'other' }) });
  assert.equal(twice.status, 423);
  assert.equal(((await twice.json()) as { ID: string; Who: string }).Who, 'someone@laptop', "423 answers with the holder's lock info");

  const { dir, env } = terraformDir({ 'main.tf': stackConfig() });
  const tfEnv = { ...env, ...backendEnv(applier.token) };
  assert.equal((await terraform(binary, dir, ['init', '-input=false'], tfEnv)).code, 0);
  const blocked = await terraform(binary, dir, ['apply', '-auto-approve', '-input=false'], tfEnv);
  assert.notEqual(blocked.code, 0);
  assert.match(blocked.stderr, /already locked/);
  assert.ok(blocked.stderr.includes(`ID=${lock.ID}`), 'terraform names the holder lock');

  const refused = await terraform(binary, dir, ['force-unlock', '-force', lock.ID], { ...tfEnv, TF_HTTP_PASSWORD: reader.token });
  assert.notEqual(refused.code, 0, 'a token without stacks:apply cannot force-unlock');
  const unlocked = await terraform(binary, dir, ['force-unlock', '-force', lock.ID], tfEnv);
  assert.equal(unlocked.code, 0, unlocked.stderr);
  assert.equal(await api.database.prisma.stateLock.count({ where: { stackId } }), 0);
  const audit = await api.database.prisma.auditLog.findFirst({ where: { action: 'stack.force_unlock', targetId: stackId } });
  assert.equal(audit?.actorUserId, applier.userId);
  assert.equal((audit?.details as { lockId?: string }).lockId, lock.ID);

  const applied = await terraform(binary, dir, ['apply', '-auto-approve', '-input=false', '-var', 'label=three'], tfEnv);
  assert.equal(applied.code, 0, applied.stderr);
});

test('a POST without the lock ID, or with a wrong Content-MD5, is refused and writes nothing', async () => {
  const before = await versions();
  const current = await fetch(stateUrl(), { headers: { authorization: basic(applier.token) } });
  assert.equal(current.status, 200);
  const state = (await current.json()) as { serial: number };
  const body = JSON.stringify({ ...state, serial: state.serial + 1 });
  const md5 = createHash('md5').update(body).digest('base64');
  const noLock = await fetch(stateUrl(), { method: 'POST', headers: { authorization: basic(applier.token), 'content-md5': md5 }, body });
  assert.equal(noLock.status, 409);
  assert.equal(((await noLock.json()) as { error: { code: string } }).error.code, 'lock_required');

  const lock = { ID: 'mine', Operation: 'OperationTypeApply', Who: 'me' };
  assert.equal((await fetch(stateUrl(), { method: 'LOCK', headers: { authorization: basic(applier.token) }, body: JSON.stringify(lock) })).status, 200);
  const wrongId = await fetch(`${stateUrl()}?ID=not-mine`, { method: 'POST', headers: { authorization: basic(applier.token), 'content-md5': md5 }, body });
  assert.equal(wrongId.status, 409);
  const badMd5 = await fetch(`${stateUrl()}?ID=mine`, {
    method: 'POST',
    headers: { authorization: basic(applier.token), 'content-md5': 'AAAAAAAAAAAAAAAAAAAAAA==' },
    body,
  });
  assert.equal(badMd5.status, 400);
  assert.equal(await versions(), before);
  const written = await fetch(`${stateUrl()}?ID=mine`, { method: 'POST', headers: { authorization: basic(applier.token), 'content-md5': md5 }, body });
  assert.equal(written.status, 200, await written.text());
  assert.equal(await versions(), before + 1);
  assert.equal((await fetch(stateUrl(), { method: 'UNLOCK', headers: { authorization: basic(applier.token) }, body: JSON.stringify(lock) })).status, 200);
});

test('Basic auth: no credentials 401 with a Basic challenge, a wrong password 401, another organization 404, a read token cannot lock', async () => {
  const none = await fetch(stateUrl());
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate') ?? '', /^Basic/);
  assert.equal((await fetch(stateUrl(), { headers: { authorization: basic('bk_not-a-real-token-at-all') } })).status, 401);
  assert.equal((await fetch(stateUrl(), { headers: { authorization: `Basic ${Buffer.from('run-x:guess').toString('base64')}` } })).status, 401);
  assert.equal((await fetch(stateUrl(), { headers: { authorization: basic(api.world.otherOwner.token) } })).status, 404);
  assert.equal((await fetch(stateUrl(), { headers: { authorization: basic(api.world.outsider.token) } })).status, 404);
  assert.equal((await fetch(stateUrl(), { headers: { authorization: basic(reader.token) } })).status, 200, 'reading needs stack.read only');
  const lock = await fetch(stateUrl(), { method: 'LOCK', headers: { authorization: basic(reader.token) }, body: JSON.stringify({ ID: 'r' }) });
  assert.equal(lock.status, 403);
});
