'use client';
// The log viewer: a region named "Log" with a toolbar (search with next/previous, follow the tail,
// timestamps, raw download) above the lines. Only the lines in view are rendered (TanStack Virtual, fixed
// row height), so a million lines cost what fifty do. The virtualizer's items are blocks of lines, not lines:
// it recomputes every item's offset when the count grows, which for a million lines is a long task per
// batch of new lines; a block of 64 makes that 64 times cheaper. Line numbers link to their line (`#L123`): opening such
// a link, or clicking a number, scrolls there and marks it.
import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent } from 'react';
import { LogLine } from './log-line';
import type { LogStore } from './log-store';
import { useLogSearch } from './use-log-search';

const ROW_PX = 20;
const LINES_PER_BLOCK = 64;
const FOCUS = 'focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-500';
const TOOL = `rounded-md border border-slate-300 px-2 py-1 text-sm hover:bg-slate-100 dark:border-slate-600 dark:hover:bg-slate-800 ${FOCUS}`;
const PRESSED = 'aria-pressed:bg-blue-700 aria-pressed:text-white aria-pressed:border-blue-700 dark:aria-pressed:bg-blue-600';

export interface LogViewerProps {
  store: LogStore;
  /** store.version when the parent rendered: new lines re-render the viewer. */
  version: number;
  /** What the log is of (the stage's name), shown in the toolbar. */
  title: string;
  /** The stage is still running: the tail is followed from the start. */
  live: boolean;
  /** The whole log as a file (GET .../logs/raw); no "Download raw" without one. */
  downloadHref?: string;
  /** Said instead of the lines while there are none. */
  emptyText: string;
  /** More of the log is being read (its first pages are shown meanwhile). */
  loading?: boolean;
}

const lineFromHash = () => {
  const match = /^#L(\d+)$/.exec(window.location.hash);
  return match ? Number(match[1]) : null;
};

export function LogViewer({ store, version, title, live, downloadHref, emptyText, loading = false }: LogViewerProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(live);
  const [timestamps, setTimestamps] = useState(false);
  const [query, setQuery] = useState('');
  const [current, setCurrent] = useState(-1);
  const [linked, setLinked] = useState<number | null>(null);
  const count = store.lineCount;
  const search = useLogSearch(store, version, query);

  const virtualizer = useVirtualizer({
    count: Math.ceil(count / LINES_PER_BLOCK),
    getScrollElement: () => scroller.current,
    estimateSize: () => LINES_PER_BLOCK * ROW_PX,
    overscan: 1,
  });
  const scrollToLine = useCallback(
    (index: number, align: 'center' | 'end') => virtualizer.scrollToOffset(align === 'end' ? (index + 1) * ROW_PX : index * ROW_PX + ROW_PX / 2, { align }),
    [virtualizer],
  );

  // Following: every new line scrolls to the end (before paint, so the view never jumps).
  useLayoutEffect(() => {
    if (follow && count > 0) scrollToLine(count - 1, 'end');
  }, [follow, count, scrollToLine]);

  // A link to a line (#L123): now, when the hash changes, and once the line has arrived.
  useEffect(() => {
    const onHash = () => setLinked(lineFromHash());
    onHash();
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const linkedIndex = linked === null ? -1 : store.indexOfLineNumber(linked);
  useEffect(() => {
    if (linkedIndex < 0) return;
    setFollow(false);
    scrollToLine(linkedIndex, 'center');
  }, [linkedIndex, scrollToLine]);

  useEffect(() => setCurrent(-1), [query]);
  const goTo = useCallback(
    (step: 1 | -1) => {
      const total = search.matches.length;
      if (total === 0) return;
      const next = current < 0 ? (step === 1 ? 0 : total - 1) : (current + step + total) % total;
      setCurrent(next);
      setFollow(false);
      scrollToLine(search.matches[next]!, 'center');
    },
    [current, search.matches, scrollToLine],
  );
  // As in a browser's find: the first match is shown as soon as it is found.
  const found = search.matches.length;
  useEffect(() => {
    if (current < 0 && found > 0) goTo(1);
  }, [current, found, goTo]);
  const currentLine = current >= 0 ? search.matches[current] : undefined;

  // A person scrolling up stops following the tail.
  const stopFollowing = () => setFollow(false);
  const onKeyDown = (event: KeyboardEvent) => {
    if (['ArrowUp', 'PageUp', 'Home'].includes(event.key)) stopFollowing();
  };
  const onSearchKey = (event: KeyboardEvent) => {
    if (event.key !== 'Enter') return;
    event.preventDefault();
    goTo(event.shiftKey ? -1 : 1);
  };

  const matchStatus =
    query === ''
      ? ''
      : search.matches.length === 0
        ? search.scanning
          ? 'Searching…'
          : 'No match'
        : `${current >= 0 ? current + 1 : '–'} of ${search.matches.length}${search.scanning ? '+' : ''}`;

  return (
    <section
      role="region"
      aria-label="Log"
      aria-busy={loading}
      className="flex min-h-0 flex-1 flex-col rounded-lg border border-slate-200 dark:border-slate-700"
    >
      <div className="flex flex-wrap items-center gap-2 border-b border-slate-200 p-2 dark:border-slate-700">
        <h2 className="mr-auto truncate text-sm font-semibold">
          {title}
          <span className="ml-2 text-xs font-normal text-slate-600 dark:text-slate-300">
            {loading ? 'loading…' : `${count.toLocaleString('en')} line${count === 1 ? '' : 's'}`}
          </span>
        </h2>
        <label className="flex items-center gap-1 text-sm">
          <span className="sr-only">Search log</span>
          <input
            type="search"
            value={query}
            onChange={(event) => setQuery(event.target.value)}
            onKeyDown={onSearchKey}
            placeholder="Search log"
            className={`w-36 rounded-md border border-slate-300 bg-white px-2 py-1 text-sm sm:w-48 dark:border-slate-600 dark:bg-slate-900 ${FOCUS}`}
          />
        </label>
        <button type="button" className={TOOL} onClick={() => goTo(-1)} disabled={search.matches.length === 0} aria-label="Previous match">
          ↑
        </button>
        <button type="button" className={TOOL} onClick={() => goTo(1)} disabled={search.matches.length === 0} aria-label="Next match">
          ↓
        </button>
        <span role="status" className="min-w-16 text-xs text-slate-600 dark:text-slate-300">
          {matchStatus}
        </span>
        <button type="button" className={`${TOOL} ${PRESSED}`} aria-pressed={follow} onClick={() => setFollow(!follow)}>
          Follow
        </button>
        <button type="button" className={`${TOOL} ${PRESSED}`} aria-pressed={timestamps} onClick={() => setTimestamps(!timestamps)}>
          Timestamps
        </button>
        {downloadHref ? (
          <a href={downloadHref} download className={TOOL}>
            Download raw
          </a>
        ) : null}
      </div>
      <div
        ref={scroller}
        data-line-count={count}
        tabIndex={0}
        aria-label={`Lines of ${title}`}
        onWheel={(event) => event.deltaY < 0 && stopFollowing()}
        onKeyDown={onKeyDown}
        onPointerDown={stopFollowing}
        className={`relative min-h-64 flex-1 overflow-auto bg-slate-950 font-mono text-xs leading-5 text-slate-100 ${FOCUS}`}
      >
        {count === 0 ? (
          <p className="p-3 text-slate-300">{emptyText}</p>
        ) : (
          <div style={{ height: count * ROW_PX }} className="relative min-w-full">
            {virtualizer.getVirtualItems().map((block) => {
              const first = block.index * LINES_PER_BLOCK;
              const lines = Array.from({ length: Math.min(LINES_PER_BLOCK, count - first) }, (_, offset) => first + offset);
              return (
                <div key={block.index} className="absolute left-0 top-0 min-w-full" style={{ transform: `translateY(${first * ROW_PX}px)` }}>
                  {lines.map((index) => {
                    const line = store.line(index);
                    const tint =
                      index === currentLine || line.number === linked
                        ? 'bg-yellow-900/60'
                        : line.stream === 'stderr'
                          ? 'text-amber-200'
                          : line.stream === 'system'
                            ? 'text-sky-300'
                            : '';
                    return (
                      <div key={index} data-line={line.number} className={`flex min-w-full whitespace-pre ${tint}`} style={{ height: ROW_PX }}>
                        <a
                          href={`#L${line.number}`}
                          className={`sticky left-0 w-16 shrink-0 select-none bg-slate-950 pr-3 text-right text-slate-400 hover:text-slate-100 ${FOCUS}`}
                        >
                          {line.number}
                        </a>
                        {timestamps && <span className="shrink-0 pr-3 text-slate-400">{new Date(line.time).toISOString().slice(11, 23)}</span>}
                        <span className="pr-4">
                          <LogLine text={line.text} query={query} />
                        </span>
                      </div>
                    );
                  })}
                </div>
              );
            })}
          </div>
        )}
      </div>
    </section>
  );
}
