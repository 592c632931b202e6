import type { Metadata } from 'next';
import { TokensSettings } from '../../../../components/settings/tokens';

export const metadata: Metadata = { title: 'Tokens · Settings · BuildIt' };

export default function TokensSettingsPage() {
  return <TokensSettings />;
}
