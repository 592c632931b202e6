/**
 * Plan-time tests: does a stage's `when` hold for this trigger? Several `when` nodes are alternatives,
 * so the stage runs when any holds; when none does, the reason names each one's failing test.
 */
import picomatch from 'picomatch';
import type { TriggerContext } from './plan-types';
import type { WhenSpec } from './spec-types';

const matchers = new Map<string, (text: string) => boolean>();

export function globMatches(glob: string, text: string): boolean {
  let matcher = matchers.get(glob);
  if (matcher === undefined) {
    matcher = picomatch(glob, { dot: true });
    matchers.set(glob, matcher);
  }
  return matcher(text);
}

/** Null when the stage runs (no `when`, or one that holds), else why not. */
export function whenSkipReason(whens: WhenSpec[], trigger: TriggerContext, variables: ReadonlyMap<string, string>): string | null {
  if (whens.length === 0) return null;
  const reasons: string[] = [];
  for (const when of whens) {
    const reason = singleWhenSkipReason(when, trigger, variables);
    if (reason === null) return null;
    reasons.push(reason);
  }
  return reasons.length === 1 ? reasons[0]! : `no \`when\` holds: ${reasons.join('; ')}`;
}

function singleWhenSkipReason(when: WhenSpec, trigger: TriggerContext, variables: ReadonlyMap<string, string>): string | null {
  if (when.event !== null && when.event !== trigger.event) return `when event="${when.event}" does not match event "${trigger.event}"`;
  const globReason = globSkipReason('branch', when.branch, trigger.branch) ?? globSkipReason('tag', when.tag, trigger.tag);
  if (globReason !== null) return globReason;
  for (const condition of when.variables) {
    const value = variables.get(condition.name) ?? '';
    if (value !== condition.value) return `when var.${condition.name}="${condition.value}" does not match "${value}"`;
  }
  return null;
}

function globSkipReason(what: 'branch' | 'tag', glob: string | null, value: string | undefined): string | null {
  if (glob === null) return null;
  if (value === undefined) return `when ${what}="${glob}": the trigger has no ${what}`;
  return globMatches(glob, value) ? null : `when ${what}="${glob}" does not match ${what} "${value}"`;
}
