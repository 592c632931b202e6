import type { Metadata } from 'next';
import { GeneralSettings } from '../../../components/settings/general';

export const metadata: Metadata = { title: 'Settings · BuildIt' };

export default function GeneralSettingsPage() {
  return <GeneralSettings />;
}
