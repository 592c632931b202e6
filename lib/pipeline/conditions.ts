/**
 * Plan-time tests: does a stage's `when` hold for this trigger? Several `when` nodes are alternatives,
 * so the stage runs when any holds; when none does, the reason names each one's failing test.
 */
import picomatch from 'picomatch';
import type { OutputAlternative, TriggerContext } from './plan-types';
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

export interface WhenDecision {
  skip: string | null;
  outputWhen: OutputAlternative[] | null;
}

/** Shared by every stage that runs outright (most have no `when`): never changed. */
const RUNS: WhenDecision = { skip: null, outputWhen: null };

/**
 * What a stage's `when` nodes decide when the run is planned: `skip` (why) when none can hold; else
 * `outputWhen`, the alternatives that hold so far but also test needs' outputs (known only when the
 * stage starts: the orchestrator tests them with `outputWhenSkipReason`), or null when one holds outright.
 */
export function planWhen(whens: WhenSpec[], trigger: TriggerContext, variables: ReadonlyMap<string, string>): WhenDecision {
  if (whens.length === 0) return RUNS;
  const reasons: string[] = [];
  const deferred: OutputAlternative[] = [];
  for (const when of whens) {
    const reason = singleWhenSkipReason(when, trigger, variables);
    if (reason !== null) reasons.push(reason);
    else if (when.outputs.length === 0) return RUNS;
    else deferred.push(when.outputs.map((c) => ({ need: c.stage, output: c.output, value: c.value })));
  }
  if (deferred.length > 0) return { skip: null, outputWhen: deferred };
  return { skip: reasons.length === 0 ? null : combinedReason(reasons), outputWhen: null };
}

/** When the stage starts: null when an alternative's outputs all have their values, else why not. */
export function outputWhenSkipReason(alternatives: OutputAlternative[], valueOf: (need: string, output: string) => string): string | null {
  const reasons: string[] = [];
  for (const alternative of alternatives) {
    const failing = alternative.find((c) => valueOf(c.need, c.output) !== c.value);
    if (failing === undefined) return null;
    const actual = valueOf(failing.need, failing.output);
    reasons.push(`when needs.${failing.need}.outputs.${failing.output}="${failing.value}" does not match "${actual}"`);
  }
  return combinedReason(reasons);
}

function combinedReason(reasons: string[]): string {
  return reasons.length === 1 ? reasons[0]! : `no \`when\` holds: ${reasons.join('; ')}`;
}

/** Tests everything but outputs (see `planWhen`). */
function singleWhenSkipReason(when: WhenSpec, trigger: TriggerContext, variables: ReadonlyMap<string, string>): string | null {
  if (when.event !== null && when.event !== trigger.event) return `when event="${when.event}" does not match event "${trigger.event}"`;
  const globReason = globSkipReason('branch', when.branch, trigger.branch) ?? globSkipReason('tag', when.tag, trigger.tag);
  if (globReason !== null) return globReason;
  for (const condition of when.variables) {
    const value = variables.get(condition.name) ?? '';
    if (value !== condition.value) return `when var.${condition.name}="${condition.value}" does not match "${value}"`;
  }
  if (when.changes.length > 0 && !changesMatch(when.changes, trigger.changedFiles)) {
    return `when changes=${when.changes.map((glob) => `"${glob}"`).join(' ')}: no changed file matches (${describeChanges(trigger.changedFiles!)})`;
  }
  return null;
}

/**
 * Whether a changed file matches the path globs. Globs apply in order, the last one that matches a file
 * deciding (`!` excludes), as GitHub's `paths`; with only `!` globs, every other file matches. Unknown
 * changes (no list) match: a filter must never hide a run it cannot judge.
 */
export function changesMatch(globs: string[], changedFiles: string[] | undefined): boolean {
  if (changedFiles === undefined) return true;
  const startIncluded = globs.every((glob) => glob.startsWith('!'));
  return changedFiles.some((file) => {
    let included = startIncluded;
    for (const glob of globs) {
      const negated = glob.startsWith('!');
      if (globMatches(negated ? glob.slice(1) : glob, file)) included = !negated;
    }
    return included;
  });
}

/** `3 files changed: a, b, c` (the first few). */
export function describeChanges(files: string[]): string {
  if (files.length === 0) return 'no file changed';
  const shown = files.slice(0, 3).join(', ');
  return `${files.length} file${files.length === 1 ? '' : 's'} changed: ${shown}${files.length > 3 ? ', ...' : ''}`;
}

function globSkipReason(what: 'branch' | 'tag', glob: string | null, value: string | undefined): string | null {
  if (glob === null) return null;
  if (value === undefined) return `when ${what}="${glob}": the trigger has no ${what}`;
  return globMatches(glob, value) ? null : `when ${what}="${glob}" does not match ${what} "${value}"`;
}
