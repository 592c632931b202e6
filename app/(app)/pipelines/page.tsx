import type { Metadata } from 'next';
import { PipelineList } from '../../../components/pipelines/pipeline-list';

export const metadata: Metadata = { title: 'Pipelines · BuildIt' };

export default function PipelinesPage() {
  return <PipelineList />;
}
