'use client';
// Copies a value (a new token, an invitation link) to the clipboard and says so.
import { useState } from 'react';
import { SECONDARY_BUTTON } from '../forms';

export function CopyButton({ value, label }: { value: string; label: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setState('copied');
    } catch {
      setState('failed');
    }
  };
  return (
    <>
      <button type="button" onClick={() => void copy()} className={`${SECONDARY_BUTTON} sm:w-auto`}>
        {label}
      </button>
      <span role="status" className="text-sm text-slate-600 dark:text-slate-400">
        {state === 'copied' ? 'Copied.' : state === 'failed' ? 'Could not copy: select the text and copy it yourself.' : ''}
      </span>
    </>
  );
}
