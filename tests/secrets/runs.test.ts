/**
 * Secrets in server runs, end to end: set through the API's service, encrypted in a real PostgreSQL, read by
 * the worker's `run` job (worker/jobs/run-pipeline.ts), injected into containers on the real Docker engine,
 * and masked in the stored logs; and still readable by runs after each kind of key rotation.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { setSecret } from '../../lib/api/services/secrets';
import { keyFilePath } from '../../lib/secrets/keys';
import { rotateSecretKey } from '../../lib/secrets/rotate';
import { prepareSecretKeys } from '../../lib/secrets/startup';
import { runPipelineJob } from '../../worker/jobs/run-pipeline';
import { RecordingPublisher, runJob, seedTenant, storedLog, triggerPipeline, type Seeded } from '../runs/helpers';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { dockerOrSkip, TEST_IMAGE } from '../support/engines';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'buildit-secret-runs-'));
// The key file of this data dir, as on a fresh install; the API's service and the worker both find it there.
delete process.env.BUILDIT_SECRET_KEY;
delete process.env.BUILDIT_SECRET_KEY_PREVIOUS;
process.env.BUILDIT_DATA_DIR = dataDir;

let db: TestDatabase;
let tenant: Seeded;
let otherTenant: Seeded;

const API_TOKEN = `tok_${randomBytes(18).toString('base64url')}`;
const DEPLOY_KEY = [
  '-----BEGIN OPENSSH PRIVATE KEY-----',
  ...Array.from({ length: 4 }, () => randomBytes(45).toString('base64')),
  '-----END OPENSSH PRIVATE KEY-----',
  '',
].join('\n');

const KDL = `pipeline "secrets" { on "manual"; }
stage "leak" {
    image "${TEST_IMAGE}"
    secret "API_TOKEN" "DEPLOY_KEY"
    env {
        AUTH "Bearer \${secrets.API_TOKEN}"
    }
    run "echo \\"plain: $API_TOKEN\\"; echo \\"auth: $AUTH\\"; echo \\"$API_TOKEN\\" >&2"
    run "echo \\"$DEPLOY_KEY\\""
    run "printf %s \\"$API_TOKEN\\" | base64; echo \\"user:$API_TOKEN\\" | base64; printf %s \\"$DEPLOY_KEY\\" | base64"
    run "printf %s \\"$API_TOKEN\\" | sha256sum; printf %s \\"$DEPLOY_KEY\\" | sha256sum"
}
stage "undeclared" {
    image "${TEST_IMAGE}"
    run "echo \\"token=$\${API_TOKEN:-unset}\\""
}
`;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const silent = pino({ level: 'silent' });

before(async () => {
  db = await createTestDatabase();
  const prepared = await prepareSecretKeys(db.pool, { env: {}, dataDir });
  assert.ok(prepared.backupNotice, 'a fresh install generates its key');
  tenant = await seedTenant(db.prisma);
  otherTenant = await seedTenant(db.prisma);
  await setSecret(db.prisma, tenant.actor, tenant.tenantId, 'API_TOKEN', { value: API_TOKEN }, null);
  await setSecret(db.prisma, tenant.actor, tenant.tenantId, 'DEPLOY_KEY', { value: DEPLOY_KEY }, null);
  await setSecret(db.prisma, otherTenant.actor, otherTenant.tenantId, 'API_TOKEN', { value: 'the-other-tenants-token' }, null);
});

after(async () => {
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function runKdl(seeded: Seeded, kdl: string) {
  const { runId, stageRunIds } = await triggerPipeline(db.prisma, seeded, kdl);
  const outcome = await runPipelineJob(
    runJob(runId),
    { signal: new AbortController().signal },
    { prisma: db.prisma, publisher: new RecordingPublisher(db.prisma), dataDir, executorNames: ['docker'], logger: silent, cancelPollMs: 200 },
  );
  assert.equal(outcome.kind, 'ran');
  const stages = new Map((await db.prisma.stageRun.findMany({ where: { runId } })).map((row) => [row.stageId, row]));
  const logs = async (stageId: string) => (await storedLog(db.prisma, stageRunIds.get(stageId)!)).lines;
  return { result: outcome.kind === 'ran' ? outcome.result : null, stages, logs };
}

/** No value, line of a value, or base64 of one, in the lines; base64 runs in them are decoded and checked too. */
function assertNothingLeaks(lines: string[]): void {
  const text = lines.join('\n');
  const decoded = [...text.matchAll(/[A-Za-z0-9+/=]{8,}/g), ...[lines.filter((line) => /^[A-Za-z0-9+/=]+$/.test(line)).join('')].map((run) => [run])]
    .map((match) => Buffer.from(match[0]!, 'base64').toString('latin1'))
    .join('\n');
  for (const value of [API_TOKEN, DEPLOY_KEY]) {
    const fragments = [value, ...value.split('\n').filter((line) => line.length >= 8), Buffer.from(value).toString('base64')];
    for (const fragment of fragments) {
      assert.ok(!text.includes(fragment), `the log shows ${JSON.stringify(fragment.slice(0, 24))}:\n${text}`);
      assert.ok(!decoded.includes(fragment.slice(1, -1)), `the log's base64 decodes to ${JSON.stringify(fragment.slice(0, 24))}:\n${text}`);
    }
  }
}

/** Runs the pipeline and checks that the stage got exactly its tenant's values, and that nothing leaked. */
async function assertRunGetsSecrets(): Promise<void> {
  const run = await runKdl(tenant, KDL);
  assert.equal(run.result?.status, 'succeeded', JSON.stringify([...run.stages.values()].map((s) => [s.stageId, s.status, s.reason])));
  const leak = await run.logs('leak');
  assert.ok(leak.includes('plain: ***'), leak.join('\n'));
  assert.ok(leak.includes('auth: Bearer ***'), leak.join('\n'));
  assert.ok(leak.includes(`${sha256(API_TOKEN)}  -`), 'the stage got the exact value of its own tenant');
  assert.ok(leak.includes(`${sha256(DEPLOY_KEY)}  -`), 'and the exact multi-line value');
  assert.ok(leak.filter((line) => line === '***').length >= 6, 'each line of the key, and each wrapped line of its base64');
  assertNothingLeaks(leak);
  assert.deepEqual(await run.logs('undeclared'), ['token=unset'], 'a stage gets only the secrets it declares');
}

test('a run injects the declared secrets of its tenant and masks them: plain, each line of a multi-line value, base64', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  await assertRunGetsSecrets();
});

test('a declared secret the tenant lacks fails that stage before it starts, naming the secret', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  const kdl = `pipeline "missing" { on "manual"; }
stage "deploy" {
    image "${TEST_IMAGE}"
    secret "API_TOKEN" "DEPLOY_KEY"
    run "echo never"
}
stage "after" needs="deploy" {
    image "${TEST_IMAGE}"
    run "echo never"
}
`;
  const run = await runKdl(otherTenant, kdl);
  assert.equal(run.result?.status, 'failed');
  const deploy = run.stages.get('deploy')!;
  assert.equal(deploy.status, 'failed');
  assert.match(deploy.reason ?? '', /missing secret "DEPLOY_KEY"/);
  assert.doesNotMatch(deploy.reason ?? '', /API_TOKEN/, 'the other tenant has API_TOKEN');
  assert.equal(deploy.handleId, null, 'no container was started');
  assert.equal(run.stages.get('after')!.status, 'skipped');
});

test('rotating the key (key file, then BUILDIT_SECRET_KEY with the old key as previous) keeps every secret readable by runs', async (t) => {
  if (!(await dockerOrSkip(t))) return;
  const file = keyFilePath(dataDir);
  const firstKey = readFileSync(file, 'utf8');

  const fromFile = await rotateSecretKey(db.prisma, { dataDir });
  assert.equal(fromFile.generated, true);
  assert.equal(fromFile.reencrypted, 3, 'every secret of every tenant');
  assert.notEqual(readFileSync(file, 'utf8'), firstKey);
  assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 1, 'the old key is gone from the file');
  assert.deepEqual(await db.prisma.secret.groupBy({ by: ['keyId'], _count: true }), [{ keyId: fromFile.keyId, _count: 3 }]);
  await assertRunGetsSecrets();

  // An operator who moves to a key of their own: the new one as BUILDIT_SECRET_KEY, the file's as the previous.
  const newKey = randomBytes(32).toString('base64');
  process.env.BUILDIT_SECRET_KEY = newKey;
  process.env.BUILDIT_SECRET_KEY_PREVIOUS = readFileSync(file, 'utf8').trim();
  try {
    await prepareSecretKeys(db.pool, { dataDir });
    const fromEnv = await rotateSecretKey(db.prisma, { dataDir });
    assert.equal(fromEnv.generated, false);
    assert.equal(fromEnv.reencrypted, 3);
    assert.deepEqual(fromEnv.retiredKeyIds, [fromFile.keyId]);
    delete process.env.BUILDIT_SECRET_KEY_PREVIOUS;
    await prepareSecretKeys(db.pool, { dataDir }); // the new key alone passes the start-up check
    await assertRunGetsSecrets();
  } finally {
    delete process.env.BUILDIT_SECRET_KEY;
    delete process.env.BUILDIT_SECRET_KEY_PREVIOUS;
  }
});
