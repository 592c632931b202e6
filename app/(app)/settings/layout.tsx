import type { ReactNode } from 'react';
import { PageHeader } from '../../../components/app/states';
import { SettingsNav } from '../../../components/settings/settings-nav';

export default function SettingsLayout({ children }: { children: ReactNode }) {
  return (
    <>
      <PageHeader title="Settings" description="Your organization and tenant: names, people, secrets, API tokens and what happened." />
      <SettingsNav />
      {children}
    </>
  );
}
