/** Durations as written in pipelines: `30s`, `10m`, `1h30m`, `500ms`, `2d`. */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(?:\d+(?:ms|s|m|h|d))+$/;
const PART = /(\d+)(ms|s|m|h|d)/g;
/** Longer than any run should take; also keeps the sum far from float imprecision. */
const MAX_DURATION_MS = 366 * UNIT_MS.d!;

export type DurationResult = { ms: number } | { error: string };

export function parseDuration(text: string): DurationResult {
  if (!DURATION.test(text)) {
    return { error: `invalid duration "${text}"` };
  }
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(PART)) ms += Number(amount) * UNIT_MS[unit!]!;
  if (ms <= 0) return { error: `duration "${text}" must be longer than zero` };
  if (ms > MAX_DURATION_MS) return { error: `duration "${text}" is longer than 366 days` };
  return { ms };
}

export const DURATION_HINT = 'write a number and a unit (ms, s, m, h, d), e.g. "90s", "10m", "1h30m"';
