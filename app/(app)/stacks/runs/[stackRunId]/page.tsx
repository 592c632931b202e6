import type { Metadata } from 'next';
import { PlanReview } from '../../../../../components/stack-run/plan-review';

export const metadata: Metadata = { title: 'Plan review · BuildIt' };

/** /stacks/runs/{stackRunId}: a stack run's plan, its log, and its approval (components/stack-run). */
export default async function StackRunPage({ params }: { params: Promise<{ stackRunId: string }> }) {
  const { stackRunId } = await params;
  return <PlanReview runId={stackRunId} />;
}
