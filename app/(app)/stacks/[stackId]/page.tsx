import type { Metadata } from 'next';
import { StackView } from '../../../../components/stacks/stack-view';

export const metadata: Metadata = { title: 'Stack · BuildIt' };

export default async function StackPage({ params }: { params: Promise<{ stackId: string }> }) {
  const { stackId } = await params;
  return <StackView stackId={stackId} />;
}
