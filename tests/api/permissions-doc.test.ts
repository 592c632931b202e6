/**
 * docs/permissions.md cannot drift from lib/auth/authorize.ts: its tables between the `generated` markers
 * are rendered here by asking authorize() itself, and must equal the file's. After a change to the model,
 * `UPDATE_GOLDENS=1 node --import tsx --test tests/api/permissions-doc.test.ts` rewrites them; review the diff.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import prettier from 'prettier';
import { ACTION_SCOPE, ACTIONS, can, ORGANIZATION_ACTIONS, SCOPES, type Action, type Actor, type Resource } from '../../lib/auth/authorize';
import type { OrgRole, TenantRole } from '../../lib/generated/prisma/enums';
import { UPDATE_GOLDENS } from '../support/pipeline-fixtures';

const DOC = path.resolve(import.meta.dirname, '../../docs/permissions.md');
const BEGIN = '<!-- generated: tests/api/permissions-doc.test.ts renders this from lib/auth/authorize.ts -->';
const END = '<!-- end generated -->';

const ORG = 'org';
const TENANT = 'tenant';

/** Each column is one role held alone: a user's rights are their organization role's column plus, in each tenant, their tenant role's. */
const COLUMNS: ReadonlyArray<{ title: string; orgRole: OrgRole | null; tenantRole?: TenantRole }> = [
  { title: 'tenant viewer', orgRole: null, tenantRole: 'viewer' },
  { title: 'tenant member', orgRole: null, tenantRole: 'member' },
  { title: 'tenant admin', orgRole: null, tenantRole: 'admin' },
  { title: 'org member', orgRole: 'member' },
  { title: 'org admin', orgRole: 'admin' },
  { title: 'owner', orgRole: 'owner' },
];

function allowed(column: (typeof COLUMNS)[number], action: Action): boolean {
  const actor: Actor = {
    kind: 'api_key',
    userId: 'user',
    apiKeyId: 'key',
    organizationId: ORG,
    orgRole: column.orgRole,
    tenantRoles: column.tenantRole ? { [TENANT]: column.tenantRole } : {},
    tenantRestriction: null,
    scopes: ['admin'],
  };
  const resource: Resource = ORGANIZATION_ACTIONS.has(action)
    ? { type: 'organization', organizationId: ORG }
    : { type: 'tenant', organizationId: ORG, tenantId: TENANT };
  return can(actor, action, resource);
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The tables as `prettier --write` leaves them (aligned columns), so the formatted file compares equal. */
async function renderTables(): Promise<string> {
  const code = (text: string) => `\`${text}\``;
  const roles = table(
    ['Action', 'On', 'Scope', ...COLUMNS.map((c) => c.title)],
    ACTIONS.map((action) => [
      code(action),
      ORGANIZATION_ACTIONS.has(action) ? 'organization' : 'tenant',
      code(ACTION_SCOPE[action]),
      ...COLUMNS.map((column) => (allowed(column, action) ? '✓' : '')),
    ]),
  );
  const scopes = table(
    ['Scope', 'Lets the token do (within its user’s role)'],
    SCOPES.map((scope) => [
      code(scope),
      scope === 'admin'
        ? 'everything'
        : ACTIONS.filter((action) => ACTION_SCOPE[action] === scope)
            .map(code)
            .join(', ') + (scope === 'read' ? '' : ', and every `read` action'),
    ]),
  );
  const markdown = `${BEGIN}\n\n${roles}\n\n${scopes}\n\n${END}\n`;
  return (await prettier.format(markdown, { ...(await prettier.resolveConfig(DOC)), parser: 'markdown' })).trimEnd();
}

test('the role and scope tables of docs/permissions.md are the ones authorize() decides', async () => {
  const doc = readFileSync(DOC, 'utf8');
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  assert.ok(start >= 0 && end > start, `docs/permissions.md lost its markers: put back\n${BEGIN}\n${END}`);
  const current = doc.slice(start, end + END.length);
  const expected = await renderTables();
  if (UPDATE_GOLDENS && current !== expected) writeFileSync(DOC, doc.replace(current, expected));
  else assert.equal(current, expected, 'docs/permissions.md disagrees with lib/auth/authorize.ts: run this test with UPDATE_GOLDENS=1 and review the diff');
});
