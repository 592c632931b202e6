/**
 * KDL reading: v2 first, then v1 (files carry no version marker). Syntax errors are reported from the
 * v2 attempt, because that is the language we document, unless the v1 parse succeeds.
 * `@bgotink/kdl` is used (not kdljs) because it keeps source locations and reads both versions.
 */
import { parse as parseV2, getLocation, InvalidKdlError, type Document } from '@bgotink/kdl';
import { parse as parseV1 } from '@bgotink/kdl/v1-compat';
import { START_OF_FILE, type DiagnosticCollector, type Span } from './diagnostics';

export type KdlVersion = 1 | 2;

export function readKdl(text: string, diagnostics: DiagnosticCollector): { document: Document; version: KdlVersion } | null {
  let v2Error: unknown;
  try {
    return { document: parseV2(text, { storeLocations: true }), version: 2 };
  } catch (error) {
    v2Error = error;
  }
  try {
    return { document: parseV1(text, { storeLocations: true }), version: 1 };
  } catch {
    reportSyntaxErrors(v2Error, diagnostics);
    return null;
  }
}

function reportSyntaxErrors(error: unknown, diagnostics: DiagnosticCollector): void {
  if (!(error instanceof InvalidKdlError)) {
    // Not a syntax error (e.g. a stack overflow on absurd nesting): still a diagnostic, never a throw.
    const reason = error instanceof Error ? error.message : String(error);
    diagnostics.error(START_OF_FILE, 'syntax', `invalid KDL: ${reason}`);
    return;
  }
  for (const detail of error.flat()) {
    const start = detail.start ?? detail.token?.start;
    const span: Span = start ? { line: start.line, column: start.column } : START_OF_FILE;
    const message = cleanMessage(detail.message);
    diagnostics.error(span, 'syntax', `invalid KDL: ${message}`, syntaxHint(message));
  }
}

/** The parser's messages say what it saw; these say what the author probably forgot. */
function syntaxHint(message: string): string | undefined {
  if (message.includes('EOF inside string')) return 'a string is not closed: add the missing `"`';
  if (message.includes('end of input')) return 'a block is not closed: add the missing `}`';
  if (message.startsWith('Invalid keyword')) return 'KDL v2 writes #true, #false and #null; KDL v1 files are read too, but this one is not valid v1 either';
  return undefined;
}

/** The parser appends " at LINE:COL"; the diagnostic already carries the position. */
function cleanMessage(message: string): string {
  return message.replace(/ at \d+:\d+$/, '');
}

/** Start of a parsed element, 1-based; the start of the file when the parser stored nothing. */
export function spanOf(element: Parameters<typeof getLocation>[0]): Span {
  const location = getLocation(element);
  return location ? { line: location.start.line, column: location.start.column } : START_OF_FILE;
}

export { getLocation };
