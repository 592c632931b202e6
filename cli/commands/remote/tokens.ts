/**
 * `buildit tokens list`, `buildit tokens create NAME --scope S... [--tenant T] [--expires 30d] [--service]`,
 * `buildit tokens revoke TOKEN_ID`. `create` prints the token once, alone on stdout (`TOKEN=$(buildit tokens
 * create ...)`): the server keeps only its hash.
 */
import type { Token } from '../../../lib/api/schemas/tokens';
import { SCOPES, type Scope } from '../../../lib/auth/authorize';
import { parseDuration } from '../../../lib/pipeline/duration';
import { UsageError } from '../../errors';
import { printJson, printTable, remote, resolveTenant, type JsonOption } from '../../remote/command';

export interface CreateTokenOptions extends JsonOption {
  scope: string[];
  tenant?: string;
  expires?: string;
  service?: boolean;
}

function scopesOf(values: string[]): Scope[] {
  if (values.length === 0) throw new UsageError(`give at least one --scope (${SCOPES.join(', ')})`);
  return values.map((value) => {
    const scope = SCOPES.find((known) => known === value);
    if (scope === undefined) throw new UsageError(`unknown scope "${value}": use ${SCOPES.join(', ')}`);
    return scope;
  });
}

/** `--expires 30d` (a duration from now: 90m, 12h, 30d) or `--expires 2027-06-30` (a date or an ISO timestamp). */
export function expiryOf(value: string, now: Date = new Date()): Date {
  const duration = parseDuration(value);
  if ('ms' in duration) return new Date(now.getTime() + duration.ms);
  const date = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : null;
  if (date === null || Number.isNaN(date.getTime())) {
    throw new UsageError(`--expires takes a duration from now (90m, 12h, 30d) or a date (2027-06-30), got "${value}"`);
  }
  if (date.getTime() <= now.getTime()) throw new UsageError(`--expires ${value} is in the past`);
  return date;
}

const status = (token: Token, now: number) =>
  token.revokedAt !== null ? 'revoked' : token.expiresAt !== null && Date.parse(token.expiresAt) <= now ? 'expired' : 'active';

export async function list(options: JsonOption): Promise<void> {
  const context = remote();
  const tokens = await context.api.listTokens();
  if (options.json) {
    printJson(tokens);
    return;
  }
  if (tokens.length === 0) {
    process.stderr.write('no tokens\n');
    return;
  }
  const slugs = new Map((await context.api.listTenants()).map((tenant) => [tenant.id, tenant.slug]));
  const now = Date.now();
  printTable(
    ['ID', 'NAME', 'KIND', 'PREFIX', 'SCOPES', 'TENANT', 'EXPIRES', 'LAST USED', 'STATUS'],
    tokens.map((token) => [
      token.id,
      token.name,
      token.kind,
      token.prefix,
      token.scopes.join(','),
      token.tenantId === null ? '-' : (slugs.get(token.tenantId) ?? token.tenantId),
      token.expiresAt ?? 'never',
      token.lastUsedAt === null ? 'never' : `${token.lastUsedAt}${token.lastUsedIp ? ` from ${token.lastUsedIp}` : ''}`,
      status(token, now),
    ]),
  );
}

export async function create(name: string, options: CreateTokenOptions): Promise<void> {
  const scopes = scopesOf(options.scope);
  const expiresAt = options.expires !== undefined ? expiryOf(options.expires).toISOString() : undefined;
  const context = remote();
  // Without --tenant the token is unrestricted: the login default tenant does not apply here.
  const tenantId = options.tenant !== undefined ? (await resolveTenant(context, options.tenant)).id : undefined;
  const created = await context.api.createToken({ name, scopes, tenantId, expiresAt, kind: options.service ? 'service' : 'personal' });
  if (options.json) {
    printJson(created);
    return;
  }
  process.stdout.write(`${created.token}\n`);
  process.stderr.write(`Created ${created.kind} token "${created.name}" (${created.id}). Copy it now: it is not shown again.\n`);
}

export async function revoke(tokenId: string, options: JsonOption): Promise<void> {
  const revoked = await remote().api.revokeToken(tokenId);
  if (options.json) printJson(revoked);
  else process.stdout.write(`Revoked token "${revoked.name}" (${revoked.id}).\n`);
}
