import type { Metadata } from 'next';
import { MembersSettings } from '../../../../components/settings/members';

export const metadata: Metadata = { title: 'Members · Settings · BuildIt' };

export default function MembersSettingsPage() {
  return <MembersSettings />;
}
