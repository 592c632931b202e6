/**
 * What `terraform plan -json` itself says of the plan: one `planned_change` message per changed resource
 * (its address and action, and why it is replaced). From it a run is `planned` the moment terraform has
 * written the plan, with its change summary and the list of changed resources; the attribute-level review
 * comes from `show -json` a moment later (plan-view.ts), because that takes a second terraform process.
 */
import { z } from 'zod';
import { inReviewOrder, summarize, type PlanView, type ResourceAction, type ResourceChangeView } from './plan-view';

const PlannedChange = z.object({
  type: z.literal('planned_change'),
  change: z.object({
    resource: z.object({ addr: z.string(), resource_type: z.string(), resource_name: z.string() }),
    action: z.string(),
    reason: z.string().optional(),
  }),
});

const STREAM_ACTIONS: ReadonlySet<string> = new Set<ResourceAction>(['create', 'update', 'delete', 'replace', 'read']);

/** The stream names four reasons unlike `show -json`'s `action_reason`; the others are spelt the same. */
const SHOW_REASONS: Readonly<Record<string, string>> = {
  tainted: 'replace_because_tainted',
  requested: 'replace_by_request',
  cannot_update: 'replace_because_cannot_update',
  replace_triggered_by: 'replace_by_triggers',
};

export class PlanStream {
  private readonly resources: ResourceChangeView[] = [];

  /** Takes one line of terraform's stdout; anything but a `planned_change` message is left alone. */
  readonly take = (line: string): void => {
    if (!line.includes('"planned_change"')) return;
    let parsed;
    try {
      parsed = PlannedChange.safeParse(JSON.parse(line));
    } catch {
      return;
    }
    if (!parsed.success) return;
    const { resource, action, reason } = parsed.data.change;
    this.resources.push({
      address: resource.addr,
      type: resource.resource_type,
      name: resource.resource_name,
      // `noop`, `move`, `import`, `forget`: no change to review, as `show -json` says with `no-op`.
      action: STREAM_ACTIONS.has(action) ? (action as ResourceAction) : 'no-op',
      reason: reason === undefined ? null : (SHOW_REASONS[reason] ?? reason),
      changes: [],
    });
  };

  view(): PlanView {
    const resources = inReviewOrder([...this.resources]);
    return { attributes: 'pending', summary: summarize(resources.map((r) => r.action)), resources, outputs: [] };
  }
}
