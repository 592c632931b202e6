'use client';
// Search through a log of any size without freezing the page: the lines are scanned in slices of a few
// milliseconds, yielding to the browser between slices, so no task comes near the 200 ms long-task bound even
// at a million lines. Lines that arrive later are scanned as they come. Case-insensitive unless the query
// has a capital letter (as in most editors).
import { useEffect, useRef, useState } from 'react';
import type { LogStore } from './log-store';

/** Work per slice before yielding to the browser. */
const SLICE_MS = 8;

export interface LogSearch {
  /** Positions (in the store) of matching lines, ascending. Read it; do not keep it across renders. */
  matches: readonly number[];
  /** True while lines are still being scanned. */
  scanning: boolean;
}

export function useLogSearch(store: LogStore, version: number, query: string): LogSearch {
  const matches = useRef<number[]>([]);
  const scanned = useRef(0);
  const [scanning, setScanning] = useState(false);
  const [, setFound] = useState(0);

  // A new query (or log) starts over.
  useEffect(() => {
    matches.current = [];
    scanned.current = 0;
    setFound(0);
  }, [store, query]);

  useEffect(() => {
    if (query === '' || scanned.current >= store.lineCount) return;
    const needle = /[A-Z]/.test(query) ? query : query.toLowerCase();
    const exact = needle === query && /[A-Z]/.test(query);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const slice = () => {
      const until = performance.now() + SLICE_MS;
      let visited = 0;
      store.scan(scanned.current, (text, index) => {
        if ((exact ? text : text.toLowerCase()).includes(needle)) matches.current.push(index);
        scanned.current = index + 1;
        // performance.now() every line would cost more than the test itself.
        return ++visited % 2048 !== 0 || performance.now() < until;
      });
      setFound(matches.current.length);
      if (!stopped && scanned.current < store.lineCount) timer = setTimeout(slice, 0);
      else setScanning(false);
    };
    setScanning(true);
    timer = setTimeout(slice, 0);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [store, version, query]);

  return { matches: query === '' ? [] : matches.current, scanning: query !== '' && scanning };
}
