import type { Metadata } from 'next';
import { EmptyState, PageHeader } from '../../../components/app/states';

export const metadata: Metadata = { title: 'Environments · BuildIt' };

// Environments have no model yet: they arrive with stacks and deployments, so there is nothing to list.
export default function EnvironmentsPage() {
  return (
    <>
      <PageHeader title="Environments" description="Where your stacks are deployed: staging, production, and the like." />
      <EmptyState title="No environments yet">
        Environments come from stacks and their deployments, which this version of BuildIt does not have yet. Once a stack is deployed, its environments and
        what runs in each will be listed here.
      </EmptyState>
    </>
  );
}
