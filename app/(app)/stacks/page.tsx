import type { Metadata } from 'next';
import { EmptyState, PageHeader } from '../../../components/app/states';

export const metadata: Metadata = { title: 'Stacks · BuildIt' };

// Stacks (Terraform with plan review) are not in this version yet: an honest empty page, no sample data.
export default function StacksPage() {
  return (
    <>
      <PageHeader title="Stacks" description="Infrastructure as code: Terraform stacks with their plans reviewed and approved in the browser." />
      <EmptyState title="No stacks yet">
        Stacks are coming in a later version of BuildIt. When they arrive, you will add a stack from a repository here, review each plan before it is applied,
        and follow its deployments in Environments.
      </EmptyState>
    </>
  );
}
