/**
 * `terraform show -json` of a plan → what the API shows and the plan review page renders: a change summary,
 * each changed resource with its action, why it is replaced, and an attribute-level before/after where
 * every sensitive value is masked (Terraform's before_sensitive/after_sensitive say which). Pure: the plan
 * JSON itself holds sensitive values in clear and is only ever stored encrypted.
 */
import { z } from 'zod';

export type ResourceAction = 'create' | 'update' | 'delete' | 'replace' | 'read' | 'no-op';

export interface ChangeSummary {
  add: number;
  change: number;
  destroy: number;
  replace: number;
}

export interface AttributeChange {
  /** The top-level attribute (`input`, `tags`); nested values are shown whole under it. */
  path: string;
  /** null when sensitive (masked) or absent. */
  before: unknown;
  after: unknown;
  /** The value (before or after) is sensitive: neither is shown. */
  sensitive: boolean;
  /** The value after is known only after the apply. */
  unknownAfter: boolean;
  /** Changing it forces the resource to be replaced. */
  forcesReplacement: boolean;
}

export interface ResourceChangeView {
  address: string;
  type: string;
  name: string;
  action: ResourceAction;
  /** Terraform's action_reason (`replace_because_cannot_update`, `replace_by_request`, ...), null when none. */
  reason: string | null;
  changes: AttributeChange[];
}

export interface OutputChangeView {
  name: string;
  action: ResourceAction;
  before: unknown;
  after: unknown;
  sensitive: boolean;
  unknownAfter: boolean;
}

export interface PlanView {
  /**
   * `pending`: made from terraform's plan stream (plan-stream.ts) when the run became `planned`: the summary and
   * the changed resources, no attribute changes and no outputs yet. `stored`: from `show -json`, a moment later.
   */
  attributes: 'pending' | 'stored';
  summary: ChangeSummary;
  /** Changed resources, grouped by action in this order: replace, delete, create, update, read. No-ops left out. */
  resources: ResourceChangeView[];
  outputs: OutputChangeView[];
}

const Change = z.looseObject({
  actions: z.array(z.string()),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
  after_unknown: z.unknown().optional(),
  before_sensitive: z.unknown().optional(),
  after_sensitive: z.unknown().optional(),
  replace_paths: z.array(z.array(z.union([z.string(), z.number()]))).optional(),
});

const PlanJson = z.looseObject({
  resource_changes: z
    .array(z.looseObject({ address: z.string(), type: z.string(), name: z.string(), action_reason: z.string().optional(), change: Change }))
    .default([]),
  output_changes: z.record(z.string(), Change).default({}),
});

export function actionOf(actions: readonly string[]): ResourceAction {
  if (actions.length === 2) return 'replace';
  const [action] = actions;
  if (action === 'create' || action === 'update' || action === 'delete' || action === 'read') return action;
  return 'no-op';
}

/** The one line a plan ends with, in the stack run's log and in the stage that queued it. */
export function summaryLine(summary: ChangeSummary, changed: boolean): string {
  return changed
    ? `plan: ${summary.add} to add, ${summary.change} to change, ${summary.destroy} to destroy, ${summary.replace} to replace`
    : 'plan: no changes';
}

/** Whether a sensitivity (or unknown) marker says anything under it is true. */
function anyTrue(marker: unknown): boolean {
  if (marker === true) return true;
  if (marker !== null && typeof marker === 'object') return Object.values(marker).some(anyTrue);
  return false;
}

const at = (value: unknown, key: string): unknown =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;

function attributeChanges(change: z.output<typeof Change>): AttributeChange[] {
  const keys = new Set<string>();
  for (const side of [change.before, change.after, change.after_unknown]) {
    if (side !== null && typeof side === 'object' && !Array.isArray(side)) for (const key of Object.keys(side)) keys.add(key);
  }
  const forcing = new Set((change.replace_paths ?? []).map((path) => String(path[0])));
  const wholeSensitive = change.before_sensitive === true || change.after_sensitive === true;
  const changes: AttributeChange[] = [];
  for (const path of [...keys].sort()) {
    const before = at(change.before, path);
    const after = at(change.after, path);
    const unknownAfter = change.after_unknown === true || anyTrue(at(change.after_unknown, path));
    const sensitive = wholeSensitive || anyTrue(at(change.before_sensitive, path)) || anyTrue(at(change.after_sensitive, path));
    // Unchanged attributes are noise in a review, except the ones the apply will fill in.
    if (!unknownAfter && JSON.stringify(before ?? null) === JSON.stringify(after ?? null)) continue;
    changes.push({
      path,
      before: sensitive ? null : (before ?? null),
      after: sensitive || unknownAfter ? null : (after ?? null),
      sensitive,
      unknownAfter,
      forcesReplacement: forcing.has(path),
    });
  }
  return changes;
}

const GROUP_ORDER: readonly ResourceAction[] = ['replace', 'delete', 'create', 'update', 'read'];

/** The changed resources (no-ops left out) in review order: grouped by action, by address within a group. */
export function inReviewOrder<T extends { action: ResourceAction; address: string }>(resources: T[]): T[] {
  return resources
    .filter((resource) => resource.action !== 'no-op')
    .sort((a, b) => GROUP_ORDER.indexOf(a.action) - GROUP_ORDER.indexOf(b.action) || a.address.localeCompare(b.address));
}

export function summarize(actions: readonly ResourceAction[]): ChangeSummary {
  const count = (action: ResourceAction) => actions.filter((a) => a === action).length;
  return { add: count('create'), change: count('update'), destroy: count('delete'), replace: count('replace') };
}

export function planView(planJson: unknown): PlanView {
  const plan = PlanJson.parse(planJson);
  const resources = inReviewOrder(
    plan.resource_changes.map((resource) => ({
      address: resource.address,
      type: resource.type,
      name: resource.name,
      action: actionOf(resource.change.actions),
      reason: resource.action_reason ?? null,
      changes: attributeChanges(resource.change),
    })),
  );
  const outputs = Object.entries(plan.output_changes)
    .map(([name, change]) => {
      const sensitive = anyTrue(change.before_sensitive) || anyTrue(change.after_sensitive);
      const unknownAfter = anyTrue(change.after_unknown);
      return {
        name,
        action: actionOf(change.actions),
        before: sensitive ? null : (change.before ?? null),
        after: sensitive || unknownAfter ? null : (change.after ?? null),
        sensitive,
        unknownAfter,
      };
    })
    .filter((output) => output.action !== 'no-op');
  return { attributes: 'stored', summary: summarize(resources.map((r) => r.action)), resources, outputs };
}
