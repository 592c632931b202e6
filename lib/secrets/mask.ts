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
 * - A value's base64 form is masked too (`base64Forms`), since `echo "$TOKEN" | base64` is the classic way
 *   around masking. As GitHub's runner does, it is masked wherever it starts in a longer base64 text: the
 *   part of the encoding that depends on the value alone, for each of the three alignments.
 */

export const MASK = '***';
export const MIN_MASKED_LENGTH = 4;

export type Masker = (line: string) => string;

/** Line width of wrapped base64: `base64` (GNU coreutils, busybox) wraps at 76 characters unless told not to. */
const BASE64_LINE_WIDTH = 76;

/**
 * The base64 texts that give a value away: its whole encoding (as `printf %s "$X" | base64` prints it, and
 * each line of that when wrapped), and, for the value at any offset of a longer encoded text, the encoding
 * of the whole 3-byte groups that hold only bytes of the value: starting at byte 0, 1 or 2. A few bits of
 * the value's first and last bytes share groups with the text around it and stay visible, as with GitHub.
 */
export function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const whole = bytes.toString('base64');
  const forms = [whole];
  for (let start = 0; start < whole.length; start += BASE64_LINE_WIDTH) forms.push(whole.slice(start, start + BASE64_LINE_WIDTH));
  for (let skip = 0; skip < 3; skip++) {
    const groups = Math.floor((bytes.length - skip) / 3);
    if (groups > 0) forms.push(bytes.subarray(skip, skip + groups * 3).toString('base64'));
  }
  return forms;
}

/** The pieces of text to hide for these secret values: whole values, each of their lines and their base64 forms, longest first. */
export function maskedFragments(secretValues: Iterable<string>): string[] {
  const fragments = new Set<string>();
  const add = (text: string) => {
    if (text.length >= MIN_MASKED_LENGTH) fragments.add(text);
  };
  for (const value of secretValues) {
    if (!/[\r\n]/.test(value)) add(value);
    for (const line of value.split(/\r?\n|\r/)) add(line.trim());
    if (value.length >= MIN_MASKED_LENGTH) base64Forms(value).forEach(add);
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
