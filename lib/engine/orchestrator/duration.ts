/** `600000` → `10m`, `90000` → `1m30s`, `1500` → `1s500ms`: short, exact, used in reasons and summaries. */
export function formatDuration(ms: number): string {
  const units: Array<[string, number]> = [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
    ['ms', 1],
  ];
  let rest = Math.max(0, Math.round(ms));
  if (rest === 0) return '0ms';
  const parts: string[] = [];
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * size;
  }
  return parts.join('');
}
