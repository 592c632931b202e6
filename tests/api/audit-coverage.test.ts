/**
 * Walking every mutating route writes exactly one audit entry each, with the actor and where the request
 * came from. The routes come from the operations of lib/api/schemas (the list the OpenAPI document is made
 * of) and each is called through its real route file, so a new route without a case here fails the first
 * test, which says what to add.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { operations } from '../../lib/api/schemas';
import type { PrismaClient } from '../../lib/generated/prisma/client';
import { writeStateVersion } from '../../lib/stacks/state/versions';
import { call, createUserWithToken, insertPipeline, routeHandler, useApiWorld, VALID_KDL, type SeededUser, type World } from './helpers';

// Setting a secret encrypts it: a key of this test's own.
process.env.BUILDIT_SECRET_KEY = randomBytes(32).toString('base64');

const api = useApiWorld();

/**
 * Mutating operations checked elsewhere, and why: each needs a call this walk cannot make with a token.
 */
const STACK_BACKEND = "Terraform's HTTP state backend (Basic auth, no Bearer token): tests/stacks/state-backend.test.ts checks the audited force-unlock";

const ELSEWHERE: Record<string, string> = {
  postStackState: STACK_BACKEND,
  lockStackState: STACK_BACKEND,
  unlockStackState: STACK_BACKEND,
  receiveWebhook:
    'public (a forge calls it, signed with the pipeline secret, no token): tests/webhooks/deliveries.test.ts checks that a run it creates writes one run.trigger row (no actor, its organization and tenant, via webhook:<forge>)',
};

const MUTATIONS = operations.filter((operation) => operation.method !== 'GET' && !Object.hasOwn(ELSEWHERE, operation.operationId));

interface Call {
  /** Who calls (default: the organization's owner); the audit row must name this user and token. */
  as?: SeededUser;
  params?: Record<string, string>;
  body?: unknown;
}

interface AuditCase {
  /** The audit action the operation writes. */
  action: string;
  /** Makes what the call needs (written directly, so only the call itself writes audit rows). */
  prepare: (prisma: PrismaClient, world: World) => Promise<Call>;
}

let counter = 0;
const unique = (base: string) => `${base}-${++counter}`;

/** A user who is a member of the organization (to change, remove, or add to a tenant). */
async function member(prisma: PrismaClient, world: World): Promise<SeededUser> {
  return createUserWithToken(prisma, { organizationId: world.orgId, orgRole: 'member' });
}

/** A run of a new pipeline in tenant A, in `status` (cancelling needs a queued run, re-running a finished one, approving a running one). */
async function run(prisma: PrismaClient, world: World, status: 'queued' | 'running' | 'failed'): Promise<string> {
  const pipelineId = await insertPipeline(prisma, world.tenantA, VALID_KDL);
  await prisma.pipeline.update({ where: { id: pipelineId }, data: { nextRunNumber: 2 } });
  const created = await prisma.pipelineRun.create({
    data: { pipelineId, number: 1, status, event: 'manual', branch: 'main', plan: { stages: [] }, configSource: VALID_KDL },
  });
  return created.id;
}

/** A stack of tenant A with a repository (a run needs no upload), written directly. */
async function stack(prisma: PrismaClient, world: World): Promise<string> {
  const slug = unique('audited-stack');
  return (await prisma.stack.create({ data: { tenantId: world.tenantA, name: slug, slug, repository: 'https://git.example.test/infra.git' } })).id;
}

/** A run of a new stack in `status` (approving and discarding need a planned apply run, cancelling a queued one). */
async function stackRun(prisma: PrismaClient, world: World, status: 'queued' | 'planned'): Promise<string> {
  const stackId = await stack(prisma, world);
  // A planned run as if the worker had stored its plan (an approval waits for that).
  const planned = status === 'planned' ? { planStateVersion: 0, planKeyId: 'stored' } : {};
  return (await prisma.stackRun.create({ data: { stackId, number: 1, kind: 'apply', event: 'api', status, ...planned } })).id;
}

/** A running run whose stage waits for approval: the path parameters of approving or denying it. */
async function waitingStage(prisma: PrismaClient, world: World): Promise<{ runId: string; stageRunId: string }> {
  const runId = await run(prisma, world, 'running');
  const stage = await prisma.stageRun.create({ data: { runId, stageId: 'deploy', name: 'deploy', status: 'waiting_approval' } });
  return { runId, stageRunId: stage.id };
}

const CASES: Record<string, AuditCase> = {
  createOrganization: { action: 'org.create', prepare: async () => ({ body: { name: unique('Audited org') } }) },
  updateOrganization: { action: 'org.update', prepare: async (_, world) => ({ params: { organizationId: world.orgId }, body: { name: 'Renamed org' } }) },
  updateMember: {
    action: 'member.update',
    prepare: async (prisma, world) => ({ params: { organizationId: world.orgId, userId: (await member(prisma, world)).userId }, body: { role: 'admin' } }),
  },
  removeMember: {
    action: 'member.remove',
    prepare: async (prisma, world) => ({ params: { organizationId: world.orgId, userId: (await member(prisma, world)).userId } }),
  },
  createInvitation: {
    action: 'invitation.create',
    prepare: async (_, world) => ({ params: { organizationId: world.orgId }, body: { email: `${unique('invitee')}@example.test` } }),
  },
  revokeInvitation: {
    action: 'invitation.revoke',
    prepare: async (prisma, world) => {
      const invitation = await prisma.invitation.create({
        data: {
          organizationId: world.orgId,
          email: `${unique('revoked')}@example.test`,
          tokenHash: unique('hash'),
          expiresAt: new Date(Date.now() + 3_600_000),
        },
      });
      return { params: { organizationId: world.orgId, invitationId: invitation.id } };
    },
  },
  acceptInvitation: {
    action: 'invitation.accept',
    prepare: async (prisma, world) => {
      // The invitee belongs to the other organization and accepts with its own token.
      const invitee = await createUserWithToken(prisma, { organizationId: world.otherOrgId, orgRole: 'member' });
      const email = (await prisma.user.findUniqueOrThrow({ where: { id: invitee.userId } })).email;
      const created = await call(await routeHandler('POST', '/api/v1/organizations/{organizationId}/invitations'), 'POST', '/', {
        token: world.owner.token,
        params: { organizationId: world.orgId },
        body: { email },
      });
      assert.equal(created.status, 201, created.text);
      return { as: invitee, params: { token: (created.body as { token: string }).token } };
    },
  },
  createTenant: { action: 'tenant.create', prepare: async () => ({ body: { name: unique('Audited tenant') } }) },
  updateTenant: { action: 'tenant.update', prepare: async (_, world) => ({ params: { tenantId: world.tenantB }, body: { name: 'Renamed B' } }) },
  deleteTenant: {
    action: 'tenant.delete',
    prepare: async (prisma, world) => {
      const tenant = await prisma.tenant.create({ data: { organizationId: world.orgId, slug: unique('doomed'), name: 'Doomed' } });
      return { params: { tenantId: tenant.id } };
    },
  },
  setTenantMember: {
    action: 'tenant_member.set',
    prepare: async (prisma, world) => ({ params: { tenantId: world.tenantA, userId: (await member(prisma, world)).userId }, body: { role: 'viewer' } }),
  },
  removeTenantMember: {
    action: 'tenant_member.remove',
    prepare: async (prisma, world) => {
      const user = await member(prisma, world);
      await prisma.tenantMembership.create({ data: { tenantId: world.tenantA, userId: user.userId, role: 'viewer' } });
      return { params: { tenantId: world.tenantA, userId: user.userId } };
    },
  },
  createPipeline: {
    action: 'pipeline.create',
    prepare: async (_, world) => ({ params: { tenantId: world.tenantA }, body: { name: unique('audited'), config: VALID_KDL } }),
  },
  updatePipeline: {
    action: 'pipeline.update',
    prepare: async (prisma, world) => ({ params: { pipelineId: await insertPipeline(prisma, world.tenantA, VALID_KDL) }, body: { name: 'renamed' } }),
  },
  deletePipeline: {
    action: 'pipeline.delete',
    prepare: async (prisma, world) => ({ params: { pipelineId: await insertPipeline(prisma, world.tenantA, VALID_KDL) } }),
  },
  createWebhookSecret: {
    action: 'pipeline.webhook_secret',
    prepare: async (prisma, world) => ({ params: { pipelineId: await insertPipeline(prisma, world.tenantA, VALID_KDL) } }),
  },
  setWebhookStatusToken: {
    action: 'pipeline.webhook_status_token',
    prepare: async (prisma, world) => {
      const pipelineId = await insertPipeline(prisma, world.tenantA, VALID_KDL);
      // The webhook row written directly (as the secret route would, without its audit row).
      await prisma.pipelineWebhook.create({
        data: { pipelineId, ciphertext: Buffer.from('x'), iv: Buffer.from('y'), authTag: Buffer.from('z'), keyId: 'test' },
      });
      return { params: { pipelineId }, body: { statusTokenSecret: 'FORGE_TOKEN' } };
    },
  },
  triggerRun: {
    action: 'run.trigger',
    prepare: async (prisma, world) => ({ params: { pipelineId: await insertPipeline(prisma, world.tenantA, VALID_KDL) }, body: {} }),
  },
  cancelRun: { action: 'run.cancel', prepare: async (prisma, world) => ({ params: { runId: await run(prisma, world, 'queued') } }) },
  approveStage: { action: 'run.approve', prepare: async (prisma, world) => ({ params: await waitingStage(prisma, world) }) },
  denyStage: { action: 'run.deny', prepare: async (prisma, world) => ({ params: await waitingStage(prisma, world) }) },
  rerunRun: { action: 'run.rerun', prepare: async (prisma, world) => ({ params: { runId: await run(prisma, world, 'failed') }, body: {} }) },
  setSecret: { action: 'secret.set', prepare: async (_, world) => ({ params: { tenantId: world.tenantA, name: 'AUDITED' }, body: { value: 's3cret' } }) },
  deleteSecret: {
    action: 'secret.delete',
    prepare: async (_, world) => {
      const set = await call(await routeHandler('PUT', '/api/v1/tenants/{tenantId}/secrets/{name}'), 'PUT', '/', {
        token: world.owner.token,
        params: { tenantId: world.tenantA, name: 'DOOMED' },
        body: { value: 'gone soon' },
      });
      assert.ok(set.status < 300, set.text);
      return { params: { tenantId: world.tenantA, name: 'DOOMED' } };
    },
  },
  createStack: { action: 'stack.create', prepare: async (_, world) => ({ params: { tenantId: world.tenantA }, body: { name: unique('Audited stack') } }) },
  updateStack: { action: 'stack.update', prepare: async (prisma, world) => ({ params: { stackId: await stack(prisma, world) }, body: { autoApply: true } }) },
  deleteStack: { action: 'stack.delete', prepare: async (prisma, world) => ({ params: { stackId: await stack(prisma, world) } }) },
  setStackVariable: {
    action: 'stack.variable.set',
    prepare: async (prisma, world) => ({ params: { stackId: await stack(prisma, world), name: 'region' }, body: { value: 'eu-west-1' } }),
  },
  deleteStackVariable: {
    action: 'stack.variable.delete',
    prepare: async (prisma, world) => {
      const stackId = await stack(prisma, world);
      await prisma.stackVariable.create({ data: { stackId, name: 'region', value: 'eu-west-1' } });
      return { params: { stackId, name: 'region' } };
    },
  },
  createStackRun: { action: 'stack.run', prepare: async (prisma, world) => ({ params: { stackId: await stack(prisma, world) }, body: { kind: 'plan' } }) },
  approveStackRun: { action: 'stack.approve', prepare: async (prisma, world) => ({ params: { stackRunId: await stackRun(prisma, world, 'planned') } }) },
  discardStackRun: { action: 'stack.discard', prepare: async (prisma, world) => ({ params: { stackRunId: await stackRun(prisma, world, 'planned') } }) },
  cancelStackRun: { action: 'stack.cancel', prepare: async (prisma, world) => ({ params: { stackRunId: await stackRun(prisma, world, 'queued') } }) },
  rollbackStateVersion: {
    action: 'stack.state.rollback',
    prepare: async (prisma, world) => {
      const stackId = await stack(prisma, world);
      const version = await prisma.$transaction((tx) =>
        writeStateVersion(tx, { id: stackId, tenantId: world.tenantA }, JSON.stringify({ version: 4, serial: 1, lineage: 'l', outputs: {}, resources: [] }), {
          runId: 'r',
        }),
      );
      return { params: { stateVersionId: version.id } };
    },
  },
  forceUnlockStack: {
    action: 'stack.force_unlock',
    prepare: async (prisma, world) => {
      const stackId = await stack(prisma, world);
      await prisma.stateLock.create({ data: { stackId, lockId: 'held', info: { ID: 'held', Who: 'gone@host' } } });
      return { params: { stackId } };
    },
  },
  createToken: { action: 'token.create', prepare: async () => ({ body: { name: 'audited', scopes: ['read'] } }) },
  revokeToken: {
    action: 'token.revoke',
    prepare: async (prisma, world) => {
      const user = await createUserWithToken(prisma, { organizationId: world.orgId, orgRole: 'member' });
      return { as: user, params: { tokenId: user.apiKeyId } };
    },
  },
};

describe('every mutating route writes exactly one audit entry, with its actor', () => {
  test('every mutating operation has a case here', () => {
    const ids = MUTATIONS.map((operation) => operation.operationId);
    const missing = MUTATIONS.filter((operation) => !(operation.operationId in CASES)).map((o) => `${o.operationId} (${o.method} ${o.path})`);
    assert.deepEqual(
      missing,
      [],
      `no audit case for ${missing.join(', ')}: add one to CASES in tests/api/audit-coverage.test.ts ` +
        '(the audit action it writes, and how to prepare a call that succeeds)',
    );
    const stale = [
      ...Object.keys(CASES).filter((id) => !ids.includes(id)),
      ...Object.keys(ELSEWHERE).filter((id) => !operations.some((operation) => operation.operationId === id && operation.method !== 'GET')),
    ];
    assert.deepEqual(stale, [], `CASES names operations that no longer exist: remove ${stale.join(', ')}`);
  });

  for (const operation of MUTATIONS) {
    test(`${operation.operationId}: ${operation.method} ${operation.path}`, async (t) => {
      const audit = CASES[operation.operationId];
      if (!audit) return t.skip('no case (the test above fails)');
      const { prisma } = api.database;
      const prepared = await audit.prepare(prisma, api.world);
      const caller = prepared.as ?? api.world.owner;
      const headers = { 'x-forwarded-for': '198.51.100.20', 'user-agent': `audit-walk/${operation.operationId}` };
      const before = await prisma.auditLog.findMany({ select: { id: true } });

      const result = await call(await routeHandler(operation.method, operation.path), operation.method, '/', {
        token: caller.token,
        params: prepared.params ?? {},
        body: prepared.body,
        headers,
      });
      assert.ok(result.status >= 200 && result.status < 300, `expected a success, got ${result.status}: ${result.text}`);

      const known = new Set(before.map((row) => row.id));
      const written = (await prisma.auditLog.findMany()).filter((row) => !known.has(row.id));
      assert.equal(written.length, 1, `expected exactly one audit row, got ${JSON.stringify(written.map((row) => row.action))}`);
      const row = written[0]!;
      assert.deepEqual(
        { action: row.action, outcome: row.outcome, actorUserId: row.actorUserId, actorApiKeyId: row.actorApiKeyId, ip: row.ip, userAgent: row.userAgent },
        {
          action: audit.action,
          outcome: 'success',
          actorUserId: caller.userId,
          actorApiKeyId: caller.apiKeyId,
          ip: '198.51.100.20',
          userAgent: headers['user-agent'],
        },
      );
      assert.ok(row.organizationId && row.targetType && row.targetId, `the row names its organization and resource: ${JSON.stringify(row)}`);
    });
  }
});
