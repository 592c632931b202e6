'use client';
// One pipeline: what it is, its runs and its config. Each part loads, fails and is empty on its own.
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { ApiError, errorMessage } from '../app/api-client';
import { useWorkspace } from '../app/workspace';
import { Loading } from '../app/states';
import { Alert } from '../forms';
import { fetchPipeline, pipelineKeys } from './api';
import { ConfigSection } from './config-section';
import { RunPipelineButton } from './run-dialog';
import { RunsSection } from './runs-section';

const SECTION_TITLE = 'text-lg font-semibold';

export function PipelineView({ pipelineId }: { pipelineId: string }) {
  const { can } = useWorkspace();
  const pipeline = useQuery({ queryKey: pipelineKeys.one(pipelineId), queryFn: () => fetchPipeline(pipelineId) });

  if (pipeline.isPending) return <Loading what="the pipeline" />;
  if (pipeline.isError) {
    const missing = pipeline.error instanceof ApiError && pipeline.error.status === 404;
    return (
      <div className="space-y-3">
        <h1 className="text-2xl font-semibold tracking-tight">Pipeline</h1>
        <Alert error={missing ? 'This pipeline does not exist, or you may not see it.' : `The pipeline could not be loaded: ${errorMessage(pipeline.error)}`} />
        <Link href="/pipelines" className="text-blue-700 underline dark:text-blue-300">
          All pipelines
        </Link>
      </div>
    );
  }
  const data = pipeline.data;
  return (
    <div className="space-y-8">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0">
          <p className="text-sm">
            <Link href="/pipelines" className="text-blue-700 underline-offset-2 hover:underline dark:text-blue-300">
              Pipelines
            </Link>
          </p>
          <h1 className="break-words text-2xl font-semibold tracking-tight">{data.name}</h1>
          <p className="break-all text-sm text-slate-600 dark:text-slate-400">
            {data.slug} · default branch {data.defaultBranch}
            {data.repository ? ` · ${data.repository}` : ''}
          </p>
        </div>
        {can('run.trigger') ? <RunPipelineButton pipeline={data} /> : null}
      </div>
      <section aria-labelledby="runs-title" className="space-y-3">
        <h2 id="runs-title" className={SECTION_TITLE}>
          Runs
        </h2>
        <RunsSection pipelineId={data.id} tenantId={data.tenantId} />
      </section>
      <section aria-labelledby="config-title" className="space-y-3">
        <h2 id="config-title" className={SECTION_TITLE}>
          Config
        </h2>
        <ConfigSection pipeline={data} />
      </section>
    </div>
  );
}
