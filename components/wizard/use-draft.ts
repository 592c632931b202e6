'use client';
// The wizard's draft, kept in sessionStorage per organization so a reload (or a visit elsewhere and back, in
// this tab) finds it as it was. Secret values stay in memory only: storage would keep them in clear text.
import { useCallback, useEffect, useState } from 'react';
import { emptyDraft, type WizardDraft } from './draft';

const storageKey = (organizationId: string) => `buildit-pipeline-draft:${organizationId}`;

function readStored(key: string): WizardDraft | null {
  try {
    const text = sessionStorage.getItem(key);
    return text ? (JSON.parse(text) as WizardDraft) : null;
  } catch {
    return null;
  }
}

function store(key: string, draft: WizardDraft): void {
  const withoutSecretValues = { ...draft, secrets: draft.secrets.map((secret) => ({ ...secret, value: '' })) };
  try {
    sessionStorage.setItem(key, JSON.stringify(withoutSecretValues));
  } catch {
    // Storage full or disabled: the draft still lives in this page.
  }
}

/** null until read from storage (after the first render: the server has no storage). */
export function useDraft(organizationId: string, defaultTenantId: string) {
  const key = storageKey(organizationId);
  const [draft, setDraft] = useState<WizardDraft | null>(null);
  useEffect(() => {
    setDraft(readStored(key) ?? emptyDraft(defaultTenantId));
  }, [key, defaultTenantId]);
  useEffect(() => {
    if (draft) store(key, draft);
  }, [key, draft]);
  const update = useCallback((patch: Partial<WizardDraft>) => setDraft((current) => (current ? { ...current, ...patch } : current)), []);
  const discard = useCallback(() => {
    sessionStorage.removeItem(key);
    setDraft(emptyDraft(defaultTenantId));
  }, [key, defaultTenantId]);
  /** After creation: nothing left to restore. */
  const forget = useCallback(() => sessionStorage.removeItem(key), [key]);
  return { draft, update, discard, forget };
}
