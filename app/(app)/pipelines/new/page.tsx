import type { Metadata } from 'next';
import { PipelineWizard } from '../../../../components/wizard/wizard';

export const metadata: Metadata = { title: 'New pipeline · BuildIt' };

export default function NewPipelinePage() {
  return <PipelineWizard />;
}
