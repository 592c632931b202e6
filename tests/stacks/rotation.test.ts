/**
 * Key rotation (lib/secrets/rotate.ts → lib/stacks/rekey.ts) and a planned stack run, with the real
 * terraform: the run's sealed plan (the plan file and terraform's plan JSON) moves to the new key, and once
 * the old key is gone the plan is still reviewed through the API and applied.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { StackRun } from '../../lib/generated/prisma/client';
import { secretKey, type Keyring } from '../../lib/secrets/keys';
import { rotateSecretKey } from '../../lib/secrets/rotate';
import { planFileAddress, planJsonAddress, unseal } from '../../lib/stacks/sealed';
import { api, createStack, packConfiguration, useStackWorld, waitForRun } from './support';
import { terraformDir, terraformOrSkip } from './terraform';

const oldKey = randomBytes(32);
const newKey = randomBytes(32);
process.env.BUILDIT_SECRET_KEY = oldKey.toString('base64');

const world = useStackWorld();
const admin = () => world.world.adminA.token;

/** A keyring holding only `key`: what decrypts with it was sealed under it. */
const only = (key: Buffer): Keyring => ({ current: secretKey(key), previous: [], source: 'test' });

/** The run's plan file and plan JSON in clear, decrypted with `keyring` alone. */
function sealedPlan(run: StackRun, tenantId: string, keyring: Keyring) {
  const keyId = run.planKeyId!;
  return {
    file: unseal(
      planFileAddress(tenantId, run.id),
      { ciphertext: run.planFileCiphertext!, iv: run.planFileIv!, authTag: run.planFileAuthTag!, keyId },
      keyring,
    ),
    json: unseal(planJsonAddress(tenantId, run.id), { ciphertext: run.planJsonCiphertext!, iv: run.planIv!, authTag: run.planAuthTag!, keyId }, keyring),
  };
}

test("a rotation re-encrypts a planned run's plan: with the old key gone it is still reviewed and applied", async (t) => {
  if (!terraformOrSkip(t)) return;
  const tenantId = world.world.tenantA;
  const prisma = world.database.prisma;
  const { id: stackId } = await createStack(admin(), tenantId, { name: 'Rotated' });
  const configuration = packConfiguration(terraformDir({ 'main.tf': 'resource "terraform_data" "a" {\n  input = "one"\n}\n' }).dir);
  const queued = await api('POST', '/api/v1/stacks/{stackId}/runs', admin(), { stackId }, { kind: 'apply', configuration });
  assert.equal(queued.status, 201, queued.text);
  const runId = (queued.body as { id: string }).id;
  const planned = await waitForRun(admin(), runId, ['planned', 'errored']);
  assert.equal(planned.status, 'planned', String(planned.reason));

  const before = await prisma.stackRun.findUniqueOrThrow({ where: { id: runId } });
  assert.equal(before.planKeyId, secretKey(oldKey).id);
  const clear = sealedPlan(before, tenantId, only(oldKey));

  // Keys from the environment: the operator makes the new key current and keeps the old one as previous.
  process.env.BUILDIT_SECRET_KEY = newKey.toString('base64');
  process.env.BUILDIT_SECRET_KEY_PREVIOUS = oldKey.toString('base64');
  const rotation = await rotateSecretKey(prisma);
  assert.deepEqual([rotation.keyId, rotation.retiredKeyIds], [secretKey(newKey).id, [secretKey(oldKey).id]]);
  // ...and drops the old key once the rotation is done: nothing below can decrypt with it.
  delete process.env.BUILDIT_SECRET_KEY_PREVIOUS;

  const after = await prisma.stackRun.findUniqueOrThrow({ where: { id: runId } });
  assert.equal(after.planKeyId, secretKey(newKey).id, 'the plan columns carry the new key id');
  assert.notDeepEqual(after.planFileCiphertext, before.planFileCiphertext);
  assert.notDeepEqual(after.planJsonCiphertext, before.planJsonCiphertext);
  assert.deepEqual(sealedPlan(after, tenantId, only(newKey)), clear, 'the new key alone decrypts the same plan file and plan JSON');
  const json = JSON.parse(clear.json) as { resource_changes: Array<{ address: string; change: { actions: string[] } }> };
  assert.deepEqual(
    json.resource_changes.map((change) => [change.address, change.change.actions]),
    [['terraform_data.a', ['create']]],
  );

  const reviewed = (await api('GET', '/api/v1/stack-runs/{stackRunId}', admin(), { stackRunId: runId })).body as {
    plan: { resources: Array<{ address: string; action: string }> } | null;
  };
  assert.deepEqual(
    reviewed.plan?.resources.map((resource) => [resource.address, resource.action]),
    [['terraform_data.a', 'create']],
  );
  const approved = await api('POST', '/api/v1/stack-runs/{stackRunId}/approve', admin(), { stackRunId: runId });
  assert.equal(approved.status, 200, approved.text);
  const applied = await waitForRun(admin(), runId, ['applied', 'errored']);
  assert.equal(applied.status, 'applied', String(applied.reason));
});
