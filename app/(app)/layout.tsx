import type { ReactNode } from 'react';
import { AppShell } from '../../components/app/shell';
import { Providers } from '../../components/app/providers';
import { loadWorkspace } from './workspace';

export const dynamic = 'force-dynamic';

/** Every page behind sign-in: the sidebar, and the providers their client parts use. */
export default async function AppLayout({ children }: { children: ReactNode }) {
  const { workspace } = await loadWorkspace();
  return (
    <Providers workspace={workspace}>
      <AppShell>{children}</AppShell>
    </Providers>
  );
}
