'use client';
// The tenant's secrets: names, who set them and when. A value is written and never read back: the field is
// emptied once it is saved, and no answer of the API carries it.
import { useState } from 'react';
import type { Secret } from '../../lib/api/schemas/secrets';
import { apiFetch, errorMessage } from '../app/api-client';
import { usePagedList } from '../app/paged-list';
import { EmptyState, Loading, LoadMore, Section } from '../app/states';
import { useWorkspace } from '../app/workspace';
import { Alert, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON } from '../forms';
import { formatTime } from '../runs-list/format';
import { confirmed, useApiMutation } from './mutation';

export function SecretsSettings() {
  const { tenant, can } = useWorkspace();
  if (!tenant) return <EmptyState title="No tenant">Secrets belong to a tenant: create one in General first.</EmptyState>;
  if (!can('secret.read')) return <Alert error="Your role does not let you see this tenant's secrets." />;
  return <TenantSecrets tenantId={tenant.id} tenantName={tenant.name} writable={can('secret.write')} />;
}

function TenantSecrets({ tenantId, tenantName, writable }: { tenantId: string; tenantName: string; writable: boolean }) {
  const key = ['secrets', tenantId];
  const secrets = usePagedList<Secret>(key, `/api/v1/tenants/${tenantId}/secrets`);
  const remove = useApiMutation((name: string) => apiFetch(`/api/v1/tenants/${tenantId}/secrets/${encodeURIComponent(name)}`, { method: 'DELETE' }), [key]);
  return (
    <>
      {writable ? <SetSecretForm tenantId={tenantId} changes={key} /> : null}
      <Section title={`Secrets of ${tenantName}`} description='A stage gets a secret as an environment variable when its pipeline declares it (secret "NAME").'>
        <Alert error={remove.errorText} />
        {secrets.isPending ? (
          <Loading what="secrets" />
        ) : secrets.isError ? (
          <Alert error={errorMessage(secrets.error)} />
        ) : secrets.items.length === 0 ? (
          <EmptyState title="No secrets yet">
            {writable ? 'Set the first one above: a name such as NPM_TOKEN and its value.' : 'Tenant admins set secrets here.'}
          </EmptyState>
        ) : (
          <ul aria-label="Secrets" className="divide-y divide-slate-200 dark:divide-slate-800">
            {secrets.items.map((secret) => (
              <li key={secret.name} className="flex flex-wrap items-center justify-between gap-3 py-3 text-sm">
                <div className="min-w-0">
                  <p className="break-all font-mono font-medium">{secret.name}</p>
                  <p className="text-slate-600 dark:text-slate-400">
                    Set {formatTime(secret.updatedAt)}
                    {secret.updatedBy ? ` by ${secret.updatedBy.email}` : ''}
                  </p>
                </div>
                {writable ? (
                  <button
                    type="button"
                    aria-label={`Delete secret ${secret.name}`}
                    disabled={remove.isPending}
                    onClick={() => confirmed(`Delete the secret ${secret.name}? Runs that need it will fail.`) && remove.mutate(secret.name)}
                    className={`${SECONDARY_BUTTON} sm:w-auto`}
                  >
                    Delete
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
        )}
        <LoadMore hasMore={secrets.hasNextPage} loading={secrets.isFetchingNextPage} onClick={() => void secrets.fetchNextPage()} />
      </Section>
    </>
  );
}

function SetSecretForm({ tenantId, changes }: { tenantId: string; changes: string[] }) {
  const [done, setDone] = useState<string | null>(null);
  const set = useApiMutation(
    ({ name, value }: { name: string; value: string }) =>
      apiFetch<Secret>(`/api/v1/tenants/${tenantId}/secrets/${encodeURIComponent(name)}`, { method: 'PUT', body: { value } }),
    [changes],
    (secret) => setDone(secret.name),
  );
  return (
    <Section
      title="Set a secret"
      description="Setting an existing name replaces its value. Values are write-only: nobody can read them back here or through the API."
    >
      <form
        className="grid grid-cols-1 gap-4 sm:grid-cols-2"
        onSubmit={(event) => {
          event.preventDefault();
          const form = event.currentTarget;
          const data = new FormData(form);
          setDone(null);
          set.mutate({ name: String(data.get('name') ?? '').trim(), value: String(data.get('value') ?? '') }, { onSuccess: () => form.reset() });
        }}
      >
        <div className="sm:col-span-2">
          <Alert error={set.errorText} />
        </div>
        <label className="block text-sm font-medium">
          Secret name
          <input
            name="name"
            required
            maxLength={255}
            pattern="[A-Za-z_][A-Za-z0-9_]*"
            title="letters, digits and _, not starting with a digit"
            autoComplete="off"
            className={`${INPUT} font-mono`}
          />
        </label>
        <label className="block text-sm font-medium">
          Secret value
          <input name="value" type="password" required autoComplete="new-password" className={INPUT} />
        </label>
        <div className="flex flex-wrap items-center gap-3 sm:col-span-2">
          <button type="submit" disabled={set.isPending} className={`${PRIMARY_BUTTON} sm:w-auto`}>
            {set.isPending ? 'Saving…' : 'Set secret'}
          </button>
          <span role="status" className="text-sm text-slate-600 dark:text-slate-400">
            {done ? `Secret ${done} saved.` : ''}
          </span>
        </div>
      </form>
    </Section>
  );
}
