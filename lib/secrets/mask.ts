/**
 * Secret masking for log lines. Every line a stage prints goes through a masker before it is stored,
 * emitted or printed, so a secret value never leaves the orchestrator in clear text.
 *
 * Decisions:
 * - A multi-line secret (a PEM key, a kubeconfig) is printed line by line, so each of its non-empty
 *   lines is masked on its own, as well as the whole value. Lines are trimmed first: the trimmed
 *   text is a substring of whatever the stage prints, indented or not.
 * - Longest values first, so a secret that contains another one is masked whole (no `***suffix`).
 * - Values (or lines of values) shorter than MIN_MASKED_LENGTH characters are NOT masked: masking
 *   `1` or `on` would shred every log line while hiding nothing an attacker could not guess anyway.
 *   This is the same trade-off GitLab makes (it refuses to mask variables under 8 characters); ours
 *   is lower so short tokens such as PINs still get masked.
 */

export const MASK = '***';
export const MIN_MASKED_LENGTH = 4;

export type Masker = (line: string) => string;

/** The pieces of text to hide for these secret values: whole values and each of their lines, longest first. */
export function maskedFragments(secretValues: Iterable<string>): string[] {
  const fragments = new Set<string>();
  for (const value of secretValues) {
    if (value.length >= MIN_MASKED_LENGTH && !/[\r\n]/.test(value)) fragments.add(value);
    for (const line of value.split(/\r?\n|\r/)) {
      const trimmed = line.trim();
      if (trimmed.length >= MIN_MASKED_LENGTH) fragments.add(trimmed);
    }
  }
  return [...fragments].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Returns a function that replaces every occurrence of any secret (or secret line) in a log line by `***`. */
export function createMasker(secretValues: Iterable<string>): Masker {
  const fragments = maskedFragments(secretValues);
  if (fragments.length === 0) return (line) => line;
  // One alternation, longest first: the regex engine tries alternatives in order at each position,
  // so the longest secret wins where several overlap. One pass per line keeps masking O(line).
  const pattern = new RegExp(fragments.map(escapeRegExp).join('|'), 'g');
  return (line) => (line.length < MIN_MASKED_LENGTH ? line : line.replace(pattern, MASK));
}
