import type { Metadata } from 'next';
import { RunPage } from '../../../../components/runs/run-page';

export const metadata: Metadata = { title: 'Run · BuildIt' };

/** /runs/{runId}[?stage=ID][#L123]: the live run page (components/runs). */
export default async function Page({ params, searchParams }: { params: Promise<{ runId: string }>; searchParams: Promise<{ stage?: string | string[] }> }) {
  const { runId } = await params;
  const { stage } = await searchParams;
  return <RunPage runId={runId} initialStage={typeof stage === 'string' ? stage : null} />;
}
