import type { Metadata } from 'next';
import { PipelineView } from '../../../../components/pipelines/pipeline-view';

export const metadata: Metadata = { title: 'Pipeline · BuildIt' };

export default async function PipelinePage({ params }: { params: Promise<{ pipelineId: string }> }) {
  const { pipelineId } = await params;
  return <PipelineView pipelineId={pipelineId} />;
}
