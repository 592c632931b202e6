/**
 * Diagnostics in the actionlint shape: every rule reports into one collector, which sorts and
 * dedupes at the end, so users see all problems of a file at once, in source order.
 */

export type Severity = 'error' | 'warning';

/** A 1-based source position; `file` is set on spans of parsed elements (an included file's own name). */
export interface Span {
  line: number;
  column: number;
  readonly file?: string;
}

export interface Diagnostic {
  severity: Severity;
  message: string;
  file: string;
  line: number;
  column: number;
  hint?: string;
  /** Which check produced it (stable, machine-readable): `syntax`, `unknown-node`, `cycle`, ... */
  rule: string;
}

export const START_OF_FILE: Span = { line: 1, column: 1 };

interface Item {
  severity: Severity;
  span: Span;
  file: string;
  rule: string;
  message: string;
  hint: string | undefined;
}

export class DiagnosticCollector {
  /**
   * `file` names the diagnostics whose span has no file of its own (syntax errors, the start of the
   * file). `items` is shared with the collectors of included files (`forFile`), so one result holds all.
   */
  constructor(
    readonly file: string,
    /** Spans are read in `result()`, not when reported: a first pass that only asks `isEmpty` never resolves a lazy one. */
    private readonly items: Item[] = [],
  ) {}

  /** A collector for another file (an included one) that reports into this one. */
  forFile(file: string): DiagnosticCollector {
    return new DiagnosticCollector(file, this.items);
  }

  error(span: Span, rule: string, message: string, hint?: string): void {
    this.items.push({ severity: 'error', span, file: this.file, rule, message, hint });
  }

  warning(span: Span, rule: string, message: string, hint?: string): void {
    this.items.push({ severity: 'warning', span, file: this.file, rule, message, hint });
  }

  get isEmpty(): boolean {
    return this.items.length === 0;
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }

  /** Sorted by file, line, column (then severity and message, so equal positions are stable), deduped. */
  result(): Diagnostic[] {
    return sortAndDedupe(
      this.items.map(({ severity, span, file, rule, message, hint }) => {
        const diagnostic: Diagnostic = { severity, message, file: span.file ?? file, line: span.line, column: span.column, rule };
        if (hint !== undefined) diagnostic.hint = hint;
        return diagnostic;
      }),
    );
  }
}

export function sortAndDedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const sorted = [...diagnostics].sort(compareDiagnostics);
  const seen = new Set<string>();
  return sorted.filter((d) => {
    const key = `${d.file}\0${d.line}\0${d.column}\0${d.severity}\0${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return compareText(a.file, b.file) || a.line - b.line || a.column - b.column || compareText(a.severity, b.severity) || compareText(a.message, b.message);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Where an earlier element is, for hints: `line 3`, or `ci/common.kdl:3` when it is in another file than `from`. */
export function placeOf(first: Span, from: Span): string {
  return first.file === from.file || first.file === undefined ? `line ${first.line}` : `${first.file}:${first.line}`;
}

/** `FILE:LINE:COL: error: MESSAGE`, plus an indented `hint:` line when there is one. */
export function formatDiagnostic(d: Diagnostic): string {
  const head = `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}`;
  return d.hint === undefined ? head : `${head}\n  hint: ${d.hint}`;
}

/** Edit distance where swapping two neighbours counts as one edit (optimal string alignment), for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

/** The closest candidate within a distance that scales with the word's length, or undefined. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (Math.abs(candidate.length - word.length) > limit) continue;
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** A "did you mean" hint, or undefined when nothing is close. */
export function didYouMean(word: string, candidates: Iterable<string>, quote: (s: string) => string = (s) => `\`${s}\``): string | undefined {
  const match = closest(word, candidates);
  return match === undefined ? undefined : `did you mean ${quote(match)}?`;
}
