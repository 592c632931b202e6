'use client';
// The tenant's environments: each with the stack that manages it and the outputs of that stack's last
// apply (sensitive ones only named).
import Link from 'next/link';
import { errorMessage } from '../app/api-client';
import { usePagedList } from '../app/paged-list';
import { EmptyState, LoadMore, Loading, PageHeader } from '../app/states';
import { useWorkspace } from '../app/workspace';
import { Alert } from '../forms';
import { formatTime } from '../runs-list/format';
import { stackHref, stackKeys, stackPaths, type Environment } from '../stacks/api';
import { OutputsTable } from '../stacks/outputs-table';

export function EnvironmentList() {
  const { tenant } = useWorkspace();
  const environments = usePagedList<Environment>(stackKeys.environments(tenant?.id ?? ''), stackPaths.environments(tenant?.id ?? ''), {}, tenant !== null);
  return (
    <>
      <PageHeader title="Environments" description="Where your stacks deploy: each environment holds the outputs of the stack that manages it." />
      {!tenant ? (
        <Alert error="You are not a member of any tenant yet: ask an administrator of your organization to add you to one." />
      ) : environments.isPending ? (
        <Loading what="environments" />
      ) : environments.isError ? (
        <Alert error={`The environments could not be loaded: ${errorMessage(environments.error)}`} />
      ) : environments.items.length === 0 ? (
        <EmptyState title="No environments yet">
          An environment appears when a stack names it in its settings (Environment): after each apply, the stack&apos;s outputs are copied there.{' '}
          <Link href="/stacks" className="text-blue-700 underline dark:text-blue-300">
            Go to Stacks
          </Link>
        </EmptyState>
      ) : (
        <>
          <ul aria-label="Environments" className="grid gap-4 lg:grid-cols-2">
            {environments.items.map((environment) => (
              <EnvironmentCard key={environment.id} environment={environment} />
            ))}
          </ul>
          <LoadMore hasMore={environments.hasNextPage} loading={environments.isFetchingNextPage} onClick={() => void environments.fetchNextPage()} />
        </>
      )}
    </>
  );
}

function EnvironmentCard({ environment }: { environment: Environment }) {
  const headingId = `environment-${environment.id}`;
  return (
    <li
      aria-labelledby={headingId}
      data-environment={environment.name}
      className="rounded-lg border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900"
    >
      <h2 id={headingId} className="text-lg font-semibold">
        {environment.name}
      </h2>
      <p className="mb-3 text-sm text-slate-600 dark:text-slate-400">
        {environment.stack ? (
          <>
            Managed by{' '}
            <Link href={stackHref(environment.stack.id)} className="text-blue-700 underline dark:text-blue-300">
              {environment.stack.name}
            </Link>
          </>
        ) : (
          'No stack manages it any more'
        )}{' '}
        · updated {formatTime(environment.updatedAt)}
      </p>
      <OutputsTable outputs={environment.outputs} caption={`Outputs of ${environment.name}`} />
    </li>
  );
}
