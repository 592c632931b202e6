import type { Metadata } from 'next';
import { PageHeader } from '../../../components/app/states';
import { RunsHistory } from '../../../components/runs-list/runs-history';

export const metadata: Metadata = { title: 'Runs · BuildIt' };

interface Props {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}

const one = (value: string | string[] | undefined) => (typeof value === 'string' ? value : '');

export default async function RunsPage({ searchParams }: Props) {
  const params = await searchParams;
  return (
    <>
      <PageHeader title="Runs" description="Every run of every pipeline of this tenant, newest first; statuses change live." />
      <RunsHistory filters={{ status: one(params.status), branch: one(params.branch), pipelineId: one(params.pipelineId) }} />
    </>
  );
}
