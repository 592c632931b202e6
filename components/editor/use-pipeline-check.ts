'use client';
import { useDeferredValue, useMemo } from 'react';
import { checkPipelineText, type PipelineCheck } from './check';

/** The check of `text`, recomputed as it changes; a burst of keystrokes is checked once React has time (useDeferredValue). */
export function usePipelineCheck(text: string): PipelineCheck & { text: string; hasErrors: boolean } {
  const deferred = useDeferredValue(text);
  return useMemo(() => {
    const check = checkPipelineText(deferred);
    return { ...check, text: deferred, hasErrors: check.diagnostics.some((d) => d.severity === 'error') };
  }, [deferred]);
}
