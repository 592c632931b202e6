/**
 * Cron slots of `on "schedule" cron="..."` triggers. Pure: no I/O, no clock (callers pass `now`).
 *
 * Time zone: UTC, always (`0 3 * * *` is 03:00 UTC), whatever the server's TZ.
 * A slot is the instant a cron expression names (whole minutes: the pipeline language only accepts the
 * classic five fields), identified by its ISO string.
 */
import { CronExpressionParser } from 'cron-parser';
import type { PipelineSpec } from '../pipeline';

/** The cron expressions of a pipeline's `on "schedule"` triggers, deduplicated (empty: not scheduled). */
export function scheduleCrons(spec: PipelineSpec): string[] {
  const crons = spec.triggers.filter((t) => t.event === 'schedule' && t.cron !== null).map((t) => (t.cron as string).trim());
  return [...new Set(crons)];
}

/** The most recent slot at or before `now` of one expression (null when it has none, or is unparsable). */
export function previousSlot(cron: string, now: Date): Date | null {
  try {
    // prev() is strictly before currentDate: start 1 ms after `now` so a slot exactly at `now` counts.
    const expression = CronExpressionParser.parse(cron, { currentDate: new Date(now.getTime() + 1), tz: 'UTC' });
    const slot = expression.prev().toDate();
    return slot.getTime() <= now.getTime() ? slot : null;
  } catch {
    return null;
  }
}

/** The most recent slot at or before `now` of any of the expressions. */
export function latestSlot(crons: readonly string[], now: Date): Date | null {
  let latest: Date | null = null;
  for (const cron of crons) {
    const slot = previousSlot(cron, now);
    if (slot && (!latest || slot.getTime() > latest.getTime())) latest = slot;
  }
  return latest;
}

/**
 * The slot to fire for a window (after, now]: the most recent slot in it, or null. Older slots of the
 * same window are NOT returned: after downtime only the latest missed slot runs (catch-up policy).
 */
export function dueSlot(crons: readonly string[], after: Date, now: Date): Date | null {
  const slot = latestSlot(crons, now);
  return slot && slot.getTime() > after.getTime() ? slot : null;
}
