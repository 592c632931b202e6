'use client';
// General settings: the organization's and the tenant's names (renamed by those allowed), and a new tenant.
// The sidebar's names come from the server, so a change refreshes the page's server parts.
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import type { Tenant } from '../../lib/api/schemas/tenants';
import { apiFetch } from '../app/api-client';
import { Section } from '../app/states';
import { useWorkspace } from '../app/workspace';
import { Alert, INPUT, PRIMARY_BUTTON } from '../forms';
import { useApiMutation } from './mutation';

/** One text field and a button; `onSave` gets the trimmed value. */
function NameForm({ label, initial, button, onSave }: { label: string; initial: string; button: string; onSave: (name: string) => Promise<unknown> }) {
  const [name, setName] = useState(initial);
  const [saved, setSaved] = useState(false);
  const save = useApiMutation(onSave, [], () => setSaved(true));
  return (
    <form
      className="space-y-3"
      onSubmit={(event) => {
        event.preventDefault();
        setSaved(false);
        save.mutate(name.trim());
      }}
    >
      <Alert error={save.errorText} />
      <label className="block text-sm font-medium">
        {label}
        <input value={name} onChange={(event) => setName(event.target.value)} required maxLength={100} className={INPUT} />
      </label>
      <div className="flex flex-wrap items-center gap-3">
        <button type="submit" disabled={save.isPending} className={`${PRIMARY_BUTTON} sm:w-auto`}>
          {save.isPending ? 'Saving…' : button}
        </button>
        <span role="status" className="text-sm text-slate-600 dark:text-slate-400">
          {saved ? 'Saved.' : ''}
        </span>
      </div>
    </form>
  );
}

function ReadOnlyName({ label, value, who }: { label: string; value: string; who: string }) {
  return (
    <p className="text-sm">
      <span className="font-medium">{label}:</span> {value}
      <span className="block text-slate-600 dark:text-slate-400">{who} rename it.</span>
    </p>
  );
}

export function GeneralSettings() {
  const router = useRouter();
  const { organization, tenant, can } = useWorkspace();
  const afterChange = () => router.refresh();
  return (
    <>
      <Section title="Organization">
        {can('org.update') ? (
          <NameForm
            label="Organization name"
            initial={organization.name}
            button="Rename organization"
            onSave={(name) => apiFetch(`/api/v1/organizations/${organization.id}`, { method: 'PATCH', body: { name } }).then(afterChange)}
          />
        ) : (
          <ReadOnlyName label="Organization name" value={organization.name} who="Owners of the organization" />
        )}
      </Section>
      <Section title="Tenant" description="A tenant holds pipelines, runs and secrets; members get a role in each tenant.">
        {tenant === null ? (
          <p className="text-sm text-slate-600 dark:text-slate-400">You work in no tenant yet.</p>
        ) : can('tenant.update') ? (
          <NameForm
            key={tenant.id}
            label="Tenant name"
            initial={tenant.name}
            button="Rename tenant"
            onSave={(name) => apiFetch(`/api/v1/tenants/${tenant.id}`, { method: 'PATCH', body: { name } }).then(afterChange)}
          />
        ) : (
          <ReadOnlyName label="Tenant name" value={tenant.name} who="Owners and admins of the organization" />
        )}
      </Section>
      {can('tenant.create') ? (
        <Section title="New tenant" description="Switch to it with the Tenant menu in the sidebar.">
          <NameForm
            label="New tenant name"
            initial=""
            button="Create tenant"
            onSave={(name) => apiFetch<Tenant>('/api/v1/tenants', { method: 'POST', body: { name } }).then(afterChange)}
          />
        </Section>
      ) : null}
    </>
  );
}
