/** Cron expressions for `on "schedule" cron="..."`: the classic five fields, checked by cron-parser. */
import { CronExpressionParser } from 'cron-parser';

/** The macros cron-parser understands (it rejects e.g. `@midnight`). */
const MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly']);

/** Null when valid, else what is wrong. */
export function cronError(expression: string): string | null {
  const trimmed = expression.trim();
  if (MACROS.has(trimmed)) return null;
  const fields = trimmed.split(/\s+/).filter((field) => field !== '');
  if (fields.length !== 5) {
    return `invalid cron expression "${expression}": expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
  }
  try {
    CronExpressionParser.parse(trimmed);
    return null;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return `invalid cron expression "${expression}": ${lowerFirst(reason)}`;
  }
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
