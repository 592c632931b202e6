'use client';
// One state version of a stack: its serial and lineage, who or what wrote it and when, the resources it
// holds and its outputs (the API never sends a sensitive output's value, nor any resource attribute), and
// "Roll back" to it for those who may apply while nothing holds the lock. A rollback opens the version it
// wrote.
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import type { ReactNode } from 'react';
import { useRouter } from 'next/navigation';
import { apiFetch } from '../app/api-client';
import { FactList } from '../app/facts';
import { Loading, LoadFailed, PageHeader, Section } from '../app/states';
import { useWorkspace } from '../app/workspace';
import { Alert } from '../forms';
import { BUTTON } from '../pipelines/styles';
import { formatTime } from '../runs-list/format';
import { fetchStack, stackHref, stackKeys, stackPaths, stateVersionHref, type StateVersion } from './api';
import { OutputsTable } from './outputs-table';
import { confirmRollback, useRollback, WrittenBy } from './state-versions';

export function StateVersionView({ versionId }: { versionId: string }) {
  const version = useQuery({ queryKey: stackKeys.version(versionId), queryFn: () => apiFetch<StateVersion>(stackPaths.version(versionId)) });
  if (version.isPending) return <Loading what="the state version" />;
  if (version.isError) return <LoadFailed what="state version" error={version.error} back={{ href: '/stacks', label: 'All stacks' }} />;
  return <VersionDetails version={version.data} />;
}

function VersionDetails({ version }: { version: StateVersion }) {
  const { can } = useWorkspace();
  const router = useRouter();
  const stack = useQuery({ queryKey: stackKeys.one(version.stackId), queryFn: () => fetchStack(version.stackId) });
  const rollback = useRollback(version.stackId, (written) => router.push(stateVersionHref(written.id)));
  const current = stack.data?.stateVersion === version.number;
  const canRollback = can('stack.apply') && stack.data !== undefined && !current && stack.data.lock === null;
  const facts: Array<[string, ReactNode]> = [
    ['Serial', String(version.serial)],
    ['Lineage', <span className="font-mono break-all">{version.lineage}</span>],
    [
      'Written',
      <>
        {formatTime(version.createdAt)} · <WrittenBy version={version} />
      </>,
    ],
    ['Terraform', version.terraformVersion ?? 'unknown'],
    ['MD5', <span className="font-mono break-all">{version.md5}</span>],
  ];
  return (
    <>
      <PageHeader
        title={`State version ${version.number}`}
        description={
          <>
            Of the stack{' '}
            <Link href={stackHref(version.stackId)} className="text-blue-700 underline dark:text-blue-300">
              {stack.data?.name ?? 'stack'}
            </Link>
            {current ? ': the current state.' : stack.data ? `: the current state is version ${stack.data.stateVersion}.` : '.'}
          </>
        }
        actions={
          canRollback ? (
            <button
              type="button"
              disabled={rollback.isPending}
              onClick={() => confirmRollback(version.number) && rollback.mutate(version)}
              className={BUTTON.secondary}
            >
              Roll back to this version
            </button>
          ) : null
        }
      />
      <Alert error={rollback.errorText} />
      {can('stack.apply') && stack.data?.lock ? (
        <p className="mb-4 text-sm text-amber-800 dark:text-amber-300">The state is locked: unlock it on the stack page before rolling back.</p>
      ) : null}
      <Section title="Version">
        <FactList facts={facts} className="text-sm" />
      </Section>
      <Section title="Resources" description="Addresses only: attribute values are never shown, as they may hold secrets.">
        {version.resources.length === 0 ? (
          <p className="text-sm text-slate-600 dark:text-slate-400">This version holds no resources.</p>
        ) : (
          <ul aria-label={`Resources of version ${version.number}`} className="divide-y divide-slate-200 text-sm dark:divide-slate-800">
            {version.resources.map((resource) => (
              <li key={resource.address} data-resource={resource.address} className="flex flex-wrap justify-between gap-2 py-2">
                <span className="font-mono break-all">{resource.address}</span>
                <span className="text-slate-600 dark:text-slate-400">
                  {resource.instances} {resource.instances === 1 ? 'instance' : 'instances'}
                </span>
              </li>
            ))}
          </ul>
        )}
      </Section>
      <Section title="Outputs" description="Sensitive outputs are never shown.">
        <OutputsTable outputs={version.outputs} caption={`Outputs of version ${version.number}`} />
      </Section>
    </>
  );
}
