'use client';
// Who is signed in and where they work (organization, tenant), with what they may do there: computed on the
// server from the same authorize() the API uses (app/(app)/workspace.ts), so buttons a user may not use are
// not offered. The API still decides every request.
import { createContext, useContext, type ReactNode } from 'react';
import type { Action } from '../../lib/auth/authorize';

export interface WorkspaceInfo {
  user: { email: string; name: string | null };
  organization: { id: string; slug: string; name: string };
  organizations: Array<{ id: string; name: string }>;
  /** null when the organization has no tenant the user may read. */
  tenant: { id: string; slug: string; name: string } | null;
  tenants: Array<{ id: string; slug: string; name: string }>;
  /** Actions allowed on the current tenant and on the organization. */
  allowed: Action[];
}

const WorkspaceContext = createContext<WorkspaceInfo | null>(null);

export function WorkspaceProvider({ value, children }: { value: WorkspaceInfo; children: ReactNode }) {
  return <WorkspaceContext.Provider value={value}>{children}</WorkspaceContext.Provider>;
}

export function useWorkspace(): WorkspaceInfo & { can: (action: Action) => boolean } {
  const value = useContext(WorkspaceContext);
  if (!value) throw new Error('useWorkspace() outside of the app layout');
  return { ...value, can: (action) => value.allowed.includes(action) };
}
