'use client';
// API tokens: create one (scopes, an optional tenant restriction and expiry), see it once with a copy button,
// list them, revoke them. The API stores only a hash: the value cannot be shown again.
import { useState } from 'react';
import type { CreatedToken, Token } from '../../lib/api/schemas/tokens';
import { SCOPES, type Scope } from '../../lib/auth/authorize';
import { apiFetch, errorMessage } from '../app/api-client';
import { usePagedList } from '../app/paged-list';
import { EmptyState, Loading, LoadMore, Section } from '../app/states';
import { useWorkspace } from '../app/workspace';
import { Alert, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON } from '../forms';
import { formatTime } from '../runs-list/format';
import { CopyButton } from './copy-button';
import { confirmed, useApiMutation } from './mutation';

const TOKENS_KEY = ['tokens'];
const EXPIRY_DAYS = [7, 30, 90, 365];
const DAY_MS = 24 * 3600 * 1000;

export function TokensSettings() {
  const [created, setCreated] = useState<CreatedToken | null>(null);
  return (
    <>
      {created ? <NewTokenPanel token={created} onDone={() => setCreated(null)} /> : <CreateTokenForm onCreated={setCreated} />}
      <TokenList />
    </>
  );
}

function NewTokenPanel({ token, onDone }: { token: CreatedToken; onDone: () => void }) {
  return (
    <Section title={`Token “${token.name}” created`} description="Copy it now: this is the only time it is shown. BuildIt keeps only a hash of it.">
      <label className="block text-sm font-medium">
        New token
        <input readOnly value={token.token} onFocus={(event) => event.currentTarget.select()} className={`${INPUT} font-mono`} />
      </label>
      <div className="mt-3 flex flex-wrap items-center gap-3">
        <CopyButton value={token.token} label="Copy token" />
        <button type="button" onClick={onDone} className={`${PRIMARY_BUTTON} sm:w-auto`}>
          Done
        </button>
      </div>
    </Section>
  );
}

function CreateTokenForm({ onCreated }: { onCreated: (token: CreatedToken) => void }) {
  const { tenant, can } = useWorkspace();
  const create = useApiMutation((body: Record<string, unknown>) => apiFetch<CreatedToken>('/api/v1/tokens', { method: 'POST', body }), [TOKENS_KEY], onCreated);
  return (
    <Section title="Create a token" description="A token acts with your role, narrowed by its scopes; it never has more rights than you.">
      <form
        className="space-y-4"
        onSubmit={(event) => {
          event.preventDefault();
          const data = new FormData(event.currentTarget);
          const days = Number(data.get('expiresInDays'));
          create.mutate({
            name: String(data.get('name') ?? '').trim(),
            scopes: data.getAll('scopes').map(String) as Scope[],
            ...(data.get('kind') === 'service' ? { kind: 'service' } : {}),
            ...(data.get('restrict') === 'on' && tenant ? { tenantId: tenant.id } : {}),
            ...(days > 0 ? { expiresAt: new Date(Date.now() + days * DAY_MS).toISOString() } : {}),
          });
        }}
      >
        <Alert error={create.errorText} />
        <label className="block text-sm font-medium">
          Token name
          <input name="name" required maxLength={100} placeholder="deploy from CI" className={INPUT} />
        </label>
        <fieldset>
          <legend className="text-sm font-medium">Scopes</legend>
          <div className="mt-2 grid grid-cols-1 gap-2 sm:grid-cols-3">
            {SCOPES.map((scope) => (
              <label key={scope} className="flex items-center gap-2 text-sm">
                <input type="checkbox" name="scopes" value={scope} defaultChecked={scope === 'read'} className="h-4 w-4" />
                <span className="font-mono">{scope}</span>
              </label>
            ))}
          </div>
        </fieldset>
        <label className="block text-sm font-medium">
          Expires
          <select name="expiresInDays" defaultValue="30" className={INPUT}>
            {EXPIRY_DAYS.map((days) => (
              <option key={days} value={days}>
                in {days} days
              </option>
            ))}
            <option value="0">never</option>
          </select>
        </label>
        {tenant ? (
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" name="restrict" className="h-4 w-4" />
            Only for the tenant {tenant.name}
          </label>
        ) : null}
        {can('token.manage_service') ? (
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" name="kind" value="service" className="h-4 w-4" />
            Service token: belongs to the organization, not to you (keeps working if you leave)
          </label>
        ) : null}
        <button type="submit" disabled={create.isPending} className={`${PRIMARY_BUTTON} sm:w-auto`}>
          {create.isPending ? 'Creating…' : 'Create token'}
        </button>
      </form>
    </Section>
  );
}

function tokenState(token: Token): string {
  if (token.revokedAt) return `revoked ${formatTime(token.revokedAt)}`;
  if (token.expiresAt && Date.parse(token.expiresAt) <= Date.now()) return `expired ${formatTime(token.expiresAt)}`;
  return token.expiresAt ? `expires ${formatTime(token.expiresAt)}` : 'never expires';
}

function TokenList() {
  const { tenants } = useWorkspace();
  const tokens = usePagedList<Token>(TOKENS_KEY, '/api/v1/tokens');
  const revoke = useApiMutation((id: string) => apiFetch<Token>(`/api/v1/tokens/${id}/revoke`, { method: 'POST' }), [TOKENS_KEY]);
  const tenantName = (id: string) => tenants.find((tenant) => tenant.id === id)?.name ?? 'another tenant';
  return (
    <Section title="Your tokens" description="Yours, and the organization's service tokens if you manage them. Revoked and expired tokens stay listed.">
      <Alert error={revoke.errorText} />
      {tokens.isPending ? (
        <Loading what="tokens" />
      ) : tokens.isError ? (
        <Alert error={errorMessage(tokens.error)} />
      ) : tokens.items.length === 0 ? (
        <EmptyState title="No tokens yet">Create the first one above, for the command line or for a CI job.</EmptyState>
      ) : (
        <ul aria-label="Tokens" className="divide-y divide-slate-200 dark:divide-slate-800">
          {tokens.items.map((token) => {
            const live = !token.revokedAt && !(token.expiresAt && Date.parse(token.expiresAt) <= Date.now());
            return (
              <li key={token.id} className="flex flex-wrap items-center justify-between gap-3 py-3 text-sm">
                <div className="min-w-0">
                  <p className="font-medium">
                    {token.name} <span className="font-mono text-slate-600 dark:text-slate-400">{token.prefix}…</span>
                    {token.kind === 'service' ? <span className="ml-2 text-xs uppercase text-slate-600 dark:text-slate-400">service</span> : null}
                  </p>
                  <p className="text-slate-600 dark:text-slate-400">
                    {token.scopes.join(', ')}
                    {token.tenantId ? ` · only ${tenantName(token.tenantId)}` : ''} · {tokenState(token)}
                    {token.lastUsedAt ? ` · last used ${formatTime(token.lastUsedAt)}` : ' · never used'}
                  </p>
                </div>
                {live ? (
                  <button
                    type="button"
                    aria-label={`Revoke token ${token.name}`}
                    disabled={revoke.isPending}
                    onClick={() => confirmed(`Revoke the token ${token.name}? Whatever uses it stops working at once.`) && revoke.mutate(token.id)}
                    className={`${SECONDARY_BUTTON} sm:w-auto`}
                  >
                    Revoke
                  </button>
                ) : null}
              </li>
            );
          })}
        </ul>
      )}
      <LoadMore hasMore={tokens.hasNextPage} loading={tokens.isFetchingNextPage} onClick={() => void tokens.fetchNextPage()} />
    </Section>
  );
}
