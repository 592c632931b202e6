'use client';
// The changed resources of a plan grouped by action (replace, delete, create, update, read) with a count
// each; every resource is a button (aria-expanded) opening its attribute-level before/after.
import { useState } from 'react';
import type { PlanResource } from '../stacks/api';
import { AttributeDiff } from './attribute-diff';

type Action = PlanResource['action'];

const GROUPS: Array<{ action: Action; title: string; mark: string; colour: string }> = [
  { action: 'replace', title: 'Replace', mark: '±', colour: 'text-orange-800 dark:text-orange-300' },
  { action: 'delete', title: 'Destroy', mark: '-', colour: 'text-red-800 dark:text-red-300' },
  { action: 'create', title: 'Create', mark: '+', colour: 'text-green-800 dark:text-green-300' },
  { action: 'update', title: 'Update in place', mark: '~', colour: 'text-amber-800 dark:text-amber-300' },
  { action: 'read', title: 'Read', mark: '<=', colour: 'text-blue-800 dark:text-blue-300' },
];

/** terraform's action_reason in words. */
const REASONS: Record<string, string> = {
  replace_because_cannot_update: 'an attribute that cannot be updated in place changed',
  replace_because_tainted: 'the resource is tainted',
  replace_by_request: 'replacement was requested (-replace)',
  replace_by_triggers: 'a replace_triggered_by reference changed',
  delete_because_no_resource_config: 'its configuration was removed',
  delete_because_no_module: 'its module was removed',
  delete_because_wrong_repetition: 'its count or for_each changed kind',
  delete_because_count_index: 'its count index is out of range',
  delete_because_each_key: 'its for_each key is gone',
  read_because_config_unknown: 'its configuration depends on values known after apply',
  read_because_dependency_pending: 'a dependency has changes pending',
};

export const reasonText = (reason: string) => REASONS[reason] ?? reason.replaceAll('_', ' ');

/**
 * `attributes`: `storing` when the run was just planned (they follow in a moment; the page re-reads), `missing`
 * when the run ended before they were stored.
 */
export type AttributesState = 'stored' | 'storing' | 'missing';

export function ResourceGroups({ resources, attributes }: { resources: PlanResource[]; attributes: AttributesState }) {
  if (resources.length === 0)
    return <p className="text-sm text-slate-700 dark:text-slate-300">No resource changes: the infrastructure matches the configuration.</p>;
  return (
    <section aria-labelledby="resource-changes" className="space-y-4">
      <h2 id="resource-changes" className="text-lg font-semibold">
        Resource changes
      </h2>
      {GROUPS.map((group) => {
        const members = resources.filter((resource) => resource.action === group.action);
        if (members.length === 0) return null;
        return (
          <div key={group.action} data-action={group.action} className="rounded-lg border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
            <h3 className={`border-b border-slate-200 px-4 py-2 font-medium dark:border-slate-800 ${group.colour}`}>
              <span aria-hidden="true">{group.mark} </span>
              {group.title} ({members.length})
            </h3>
            <ul className="divide-y divide-slate-200 dark:divide-slate-800">
              {members.map((resource) => (
                <ResourceItem key={resource.address} resource={resource} attributes={attributes} />
              ))}
            </ul>
          </div>
        );
      })}
    </section>
  );
}

function ResourceItem({ resource, attributes }: { resource: PlanResource; attributes: AttributesState }) {
  const [open, setOpen] = useState(false);
  const panelId = `resource-${resource.address.replace(/[^A-Za-z0-9_-]/g, '-')}`;
  return (
    <li data-resource={resource.address}>
      <button
        type="button"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen(!open)}
        className="flex w-full items-center gap-2 px-4 py-2 text-left font-mono text-sm hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-inset focus-visible:ring-blue-600 dark:hover:bg-slate-800"
      >
        <span aria-hidden="true">{open ? '▾' : '▸'}</span>
        <span className="break-all">{resource.address}</span>
      </button>
      {open ? (
        <div id={panelId} className="space-y-2 px-4 pb-3">
          {resource.reason ? <p className="text-sm text-slate-700 dark:text-slate-300">Why: {reasonText(resource.reason)}.</p> : null}
          {attributes === 'stored' ? (
            <AttributeDiff address={resource.address} changes={resource.changes} />
          ) : (
            <p className="text-sm text-slate-700 dark:text-slate-300">
              {attributes === 'storing' ? 'Its attribute changes are being stored…' : 'Its attribute changes were not stored: the run ended first.'}
            </p>
          )}
        </div>
      ) : null}
    </li>
  );
}
