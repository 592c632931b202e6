import type { Metadata } from 'next';
import { StateVersionView } from '../../../../../components/stacks/state-version';

export const metadata: Metadata = { title: 'State version · BuildIt' };

/** /stacks/state/{stateVersionId}: one state version of a stack, and its rollback (components/stacks/state-version.tsx). */
export default async function StateVersionPage({ params }: { params: Promise<{ stateVersionId: string }> }) {
  const { stateVersionId } = await params;
  return <StateVersionView versionId={stateVersionId} />;
}
