'use client';
// A stack's page: what it is and who holds its lock, then its runs, variables, outputs, state versions and
// settings, one section each. When one of its runs changes status (live.ts) the stack and its lists are
// read again.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useRef } from 'react';
import { Loading, LoadFailed, PageHeader, Section } from '../app/states';
import { useWorkspace } from '../app/workspace';
import { fetchStack, stackKeys } from './api';
import { useStackRunEvents } from './live';
import { LockNotice } from './lock-holder';
import { OutputsTable } from './outputs-table';
import { StackRuns } from './stack-runs';
import { StackSettings } from './stack-settings';
import { StateVersions } from './state-versions';
import { DriftBadge } from './status-badge';
import { StackVariables } from './stack-variables';

export function StackView({ stackId }: { stackId: string }) {
  const { can } = useWorkspace();
  const queryClient = useQueryClient();
  const stack = useQuery({ queryKey: stackKeys.one(stackId), queryFn: () => fetchStack(stackId) });
  const statuses = useRef(new Map<string, string>());
  useStackRunEvents({
    onEvent: (event) => {
      if (event.stackId !== stackId || statuses.current.get(event.stackRunId) === event.status) return;
      statuses.current.set(event.stackRunId, event.status);
      // Prefix of the runs and state versions lists too.
      void queryClient.invalidateQueries({ queryKey: stackKeys.one(stackId) });
    },
    onSubscribed: () => void queryClient.invalidateQueries({ queryKey: stackKeys.one(stackId) }),
  });

  if (stack.isPending) return <Loading what="the stack" />;
  if (stack.isError) return <LoadFailed what="stack" error={stack.error} back={{ href: '/stacks', label: 'All stacks' }} />;
  const data = stack.data;
  return (
    <>
      <PageHeader
        title={data.name}
        description={
          <>
            {data.repository ? `${data.repository} · ${data.ref} · ${data.path}` : 'Configuration uploaded by the CLI with each plan.'}
            {data.environment ? (
              <>
                {' '}
                Manages the environment{' '}
                <Link href="/environments" className="text-blue-700 underline dark:text-blue-300">
                  {data.environment.name}
                </Link>
                .
              </>
            ) : null}
            {data.autoApply ? ' Plans with changes are applied without approval.' : ' Plans with changes wait for approval.'}
          </>
        }
        actions={data.drifted ? <DriftBadge /> : null}
      />
      {data.lock ? <LockNotice stackId={data.id} lock={data.lock} canUnlock={can('stack.apply')} /> : null}
      <StackRuns stack={data} />
      <StackVariables stackId={data.id} writable={can('stack.apply')} />
      <Section title="Outputs" description={`Of the current state (version ${data.stateVersion}). Sensitive outputs are never shown.`}>
        <OutputsTable outputs={data.outputs} caption={`Outputs of ${data.name}`} />
      </Section>
      <StateVersions stackId={data.id} canRollback={can('stack.apply') && data.lock === null} />
      <StackSettings stack={data} writable={can('stack.apply')} />
    </>
  );
}
