import type { Metadata } from 'next';
import { SecretsSettings } from '../../../../components/settings/secrets';

export const metadata: Metadata = { title: 'Secrets · Settings · BuildIt' };

export default function SecretsSettingsPage() {
  return <SecretsSettings />;
}
