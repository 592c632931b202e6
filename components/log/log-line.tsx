// One visible line of the log: its ANSI colours (parsed here, for the few dozen lines on screen only), and the
// search query marked in it.
import Anser from 'anser';
import { memo, type ReactNode } from 'react';

interface Props {
  text: string;
  /** Marked where it occurs (case as in the search); empty: nothing marked. */
  query: string;
}

export const LogLine = memo(function LogLine({ text, query }: Props) {
  // Most lines have no escape codes: skip the parser for them.
  if (!text.includes('\u001b')) return <>{mark(text, query)}</>;
  const entries = Anser.ansiToJson(text, { json: true, remove_empty: true });
  return (
    <>
      {entries.map((entry, i) => (
        <span
          key={i}
          style={{
            color: entry.fg ? `rgb(${entry.fg})` : undefined,
            backgroundColor: entry.bg ? `rgb(${entry.bg})` : undefined,
            fontWeight: entry.decorations.includes('bold') ? 600 : undefined,
            fontStyle: entry.decorations.includes('italic') ? 'italic' : undefined,
            textDecoration: entry.decorations.includes('underline') ? 'underline' : undefined,
            opacity: entry.decorations.includes('dim') ? 0.7 : undefined,
          }}
        >
          {mark(entry.content, query)}
        </span>
      ))}
    </>
  );
});

function mark(text: string, query: string): ReactNode {
  if (query === '') return text;
  const haystack = /[A-Z]/.test(query) ? text : text.toLowerCase();
  const needle = /[A-Z]/.test(query) ? query : query.toLowerCase();
  const parts: ReactNode[] = [];
  let from = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) {
    parts.push(text.slice(from, at), <mark key={at}>{text.slice(at, at + needle.length)}</mark>);
    from = at + needle.length;
  }
  if (parts.length === 0) return text;
  parts.push(text.slice(from));
  return parts;
}
