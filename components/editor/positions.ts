// lib/pipeline reports 1-based lines and columns counted in Unicode code points (what a person sees);
// CodeMirror positions are UTF-16 offsets into the document. These map one to the other.
import type { Diagnostic } from '../../lib/pipeline';

export interface EditorDiagnostic {
  from: number;
  to: number;
  severity: 'error' | 'warning';
  message: string;
}

/** Characters that end the token a diagnostic points at. */
const TOKEN_END = /[\s{};=]/u;

/** UTF-16 offset of a 1-based (line, code-point column); clamped to the document and to the line's end. */
export function offsetOf(text: string, line: number, column: number): number {
  let start = 0;
  for (let current = 1; current < line; current++) {
    const newline = text.indexOf('\n', start);
    if (newline === -1) return text.length;
    start = newline + 1;
  }
  const lineEnd = text.indexOf('\n', start) === -1 ? text.length : text.indexOf('\n', start);
  let offset = start;
  for (let current = 1; current < column && offset < lineEnd; current++) {
    offset += (text.codePointAt(offset) ?? 0) > 0xffff ? 2 : 1;
  }
  return Math.min(offset, lineEnd);
}

/** The end of the token starting at `from` (at least one character when the line has one there). */
function tokenEnd(text: string, from: number): number {
  let to = from;
  while (to < text.length && !TOKEN_END.test(text[to]!)) to++;
  return to === from && from < text.length && text[from] !== '\n' ? from + 1 : to;
}

/** Diagnostics as editor ranges, each underlining the token at its position; the hint joins the message. */
export function toEditorDiagnostics(text: string, diagnostics: Diagnostic[]): EditorDiagnostic[] {
  return diagnostics.map((diagnostic) => {
    const from = offsetOf(text, diagnostic.line, diagnostic.column);
    return {
      from,
      to: tokenEnd(text, from),
      severity: diagnostic.severity,
      message: diagnostic.hint === undefined ? diagnostic.message : `${diagnostic.message} (${diagnostic.hint})`,
    };
  });
}
