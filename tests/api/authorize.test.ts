/** The role table and fail-closed rules of authorize(), without a database. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ACTIONS, authorize, can, ORGANIZATION_ACTIONS, type Action, type Actor } from '../../lib/auth/authorize';
import { generateToken, hashesEqual, hashToken, tokenLookupPrefix } from '../../lib/auth/tokens';

const ORG = 'org1';
const T1 = 'tenant1';
const T2 = 'tenant2';

function actor(overrides: Partial<Actor> = {}): Actor {
  return {
    kind: 'api_key',
    userId: 'u',
    apiKeyId: 'k',
    organizationId: ORG,
    orgRole: 'member',
    tenantRoles: {},
    tenantRestriction: null,
    scopes: ['admin'],
    ...overrides,
  };
}

const tenant = (tenantId: string, organizationId = ORG) => ({ type: 'tenant' as const, organizationId, tenantId });
const org = (organizationId = ORG) => ({ type: 'organization' as const, organizationId });
const TENANT_ACTIONS = ACTIONS.filter((a) => !ORGANIZATION_ACTIONS.has(a));

describe('authorize', () => {
  test('tenant role table', () => {
    const expected: Record<string, Action[]> = {
      viewer: ['tenant.read', 'pipeline.read', 'run.read', 'secret.read', 'stack.read'],
      member: ['tenant.read', 'pipeline.read', 'run.read', 'secret.read', 'stack.read', 'run.trigger', 'run.cancel', 'stack.plan'],
      admin: [...TENANT_ACTIONS],
    };
    for (const [role, allowed] of Object.entries(expected)) {
      const a = actor({ tenantRoles: { [T1]: role as 'viewer' } });
      const granted = TENANT_ACTIONS.filter((action) => can(a, action, tenant(T1)));
      assert.deepEqual([...granted].sort(), [...allowed].sort(), role);
      assert.ok(
        TENANT_ACTIONS.every((action) => !can(a, action, tenant(T2))),
        `${role} of T1 has nothing in T2`,
      );
      assert.equal(can(a, 'tenant.create', org()), false);
    }
  });

  test('org owners and admins act on every tenant of their organization, and only theirs', () => {
    for (const orgRole of ['owner', 'admin'] as const) {
      const a = actor({ orgRole });
      for (const action of TENANT_ACTIONS) {
        assert.ok(can(a, action, tenant(T2)), `${orgRole} ${action}`);
        assert.deepEqual(authorize(a, action, tenant(T2, 'other-org')), { allowed: false, reason: 'organization' });
      }
      assert.ok(can(a, 'tenant.create', org()));
      assert.equal(can(a, 'tenant.create', org('other-org')), false);
    }
  });

  test('fails closed on unknown roles, actions, scopes and mismatched resource kinds', () => {
    assert.equal(can(actor({ orgRole: 'superuser' as never }), 'pipeline.read', tenant(T1)), false);
    assert.equal(can(actor({ tenantRoles: { [T1]: 'root' as never } }), 'pipeline.read', tenant(T1)), false);
    assert.equal(can(actor({ tenantRoles: { ['__proto__']: 'admin' } }), 'pipeline.read', tenant('toString')), false);
    assert.equal(can(actor({ orgRole: 'owner' }), 'pipeline.nuke' as Action, tenant(T1)), false);
    assert.equal(can(actor({ orgRole: 'owner', scopes: ['superpowers' as never] }), 'pipeline.read', tenant(T1)), false);
    assert.equal(can(actor({ orgRole: 'owner' }), 'pipeline.read', org()), false);
    assert.equal(can(actor({ orgRole: 'owner' }), 'tenant.create', tenant(T1)), false);
    assert.equal(can(actor({ orgRole: null }), 'tenant.list', org()), false);
    assert.ok(can(actor({ orgRole: null, tenantRoles: { [T1]: 'viewer' } }), 'tenant.list', org()), 'a tenant member without org role lists its tenants');
    assert.equal(can(actor({ orgRole: null, tenantRoles: { [T1]: 'bogus' as never } }), 'tenant.list', org()), false);
  });

  test('scopes: each grants its own actions and reading; admin grants everything', () => {
    const owner = (scopes: Actor['scopes']) => actor({ orgRole: 'owner', scopes });
    assert.deepEqual(authorize(owner(['read']), 'run.trigger', tenant(T1)), { allowed: false, reason: 'scope' });
    assert.ok(can(owner(['read']), 'run.read', tenant(T1)));
    assert.ok(can(owner(['runs:trigger']), 'run.trigger', tenant(T1)));
    assert.ok(can(owner(['runs:trigger']), 'run.read', tenant(T1)), 'a scope that acts also reads');
    assert.equal(can(owner(['runs:trigger']), 'pipeline.update', tenant(T1)), false);
    assert.equal(can(owner(['pipelines:write']), 'secret.write', tenant(T1)), false);
    assert.ok(can(owner(['secrets:write']), 'secret.write', tenant(T1)));
    assert.equal(can(owner(['runs:trigger']), 'tenant.create', org()), false);
    assert.ok(can(owner(['admin']), 'tenant.create', org()));
  });

  test('roles: viewer reads, member triggers, tenant admin manages pipelines, secrets and approvals, org admin everything but the organization', () => {
    const inTenant = (role: 'viewer' | 'member' | 'admin') => actor({ orgRole: null, tenantRoles: { [T1]: role } });
    assert.ok(can(inTenant('viewer'), 'run.read', tenant(T1)));
    assert.equal(can(inTenant('viewer'), 'run.trigger', tenant(T1)), false);
    assert.ok(can(inTenant('member'), 'run.cancel', tenant(T1)));
    assert.equal(can(inTenant('member'), 'secret.write', tenant(T1)), false);
    assert.ok(can(inTenant('admin'), 'secret.write', tenant(T1)));
    assert.ok(can(inTenant('admin'), 'run.approve', tenant(T1)));
    assert.equal(can(inTenant('admin'), 'member.manage', org()), false);
    assert.ok(can(actor({ orgRole: 'admin' }), 'member.manage', org()));
    assert.equal(can(actor({ orgRole: 'admin' }), 'org.update', org()), false);
    assert.ok(can(actor({ orgRole: 'owner' }), 'org.update', org()));
  });

  test('a tenant-restricted token acts only in its tenant and creates no tenants', () => {
    const a = actor({ orgRole: 'owner', tenantRestriction: T1 });
    assert.ok(can(a, 'pipeline.delete', tenant(T1)));
    assert.deepEqual(authorize(a, 'pipeline.read', tenant(T2)), { allowed: false, reason: 'tenant_restriction' });
    assert.ok(can(a, 'tenant.list', org()));
    assert.equal(can(a, 'tenant.create', org()), false);
  });
});

describe('tokens', () => {
  test('bk_ + 43 base64url characters, unique, hashed with sha256', () => {
    const token = generateToken();
    assert.match(token, /^bk_[A-Za-z0-9_-]{43}$/);
    assert.notEqual(generateToken(), token);
    assert.equal(tokenLookupPrefix(token), token.slice(0, 12));
    assert.match(hashToken(token), /^[0-9a-f]{64}$/);
    assert.ok(hashesEqual(hashToken(token), hashToken(token)));
    assert.equal(hashesEqual(hashToken(token), hashToken(token + 'x')), false);
    assert.equal(hashesEqual(hashToken(token), 'not-hex'), false);
  });
});
