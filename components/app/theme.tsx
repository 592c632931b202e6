'use client';
// Dark or light: the system's choice until the user presses "Toggle theme", then theirs, remembered in this
// browser (localStorage). THEME_SCRIPT applies it before the first paint, so a dark page never flashes white.
import { useEffect, useState } from 'react';

const STORAGE_KEY = 'buildit-theme';

export const THEME_SCRIPT = `(function(){try{var t=localStorage.getItem('${STORAGE_KEY}');var d=t?t==='dark':matchMedia('(prefers-color-scheme: dark)').matches;document.documentElement.classList.toggle('dark',d);}catch(e){}})();`;

const isDarkNow = () => document.documentElement.classList.contains('dark');

export function ThemeToggle({ className = '' }: { className?: string }) {
  const [dark, setDark] = useState<boolean | null>(null);
  useEffect(() => {
    setDark(isDarkNow());
    // Without a choice of the user's, follow the system when it changes.
    const media = matchMedia('(prefers-color-scheme: dark)');
    const follow = (event: MediaQueryListEvent) => {
      if (localStorage.getItem(STORAGE_KEY)) return;
      document.documentElement.classList.toggle('dark', event.matches);
      setDark(event.matches);
    };
    media.addEventListener('change', follow);
    return () => media.removeEventListener('change', follow);
  }, []);
  const toggle = () => {
    const next = !isDarkNow();
    document.documentElement.classList.toggle('dark', next);
    localStorage.setItem(STORAGE_KEY, next ? 'dark' : 'light');
    setDark(next);
  };
  return (
    <button
      type="button"
      onClick={toggle}
      aria-pressed={dark ?? undefined}
      title={dark ? 'Dark now: switch to light' : 'Light now: switch to dark'}
      className={className}
    >
      {/* The visible words are the accessible name (axe: label-content-name-mismatch); aria-pressed and the mark say which theme is on. */}
      <span aria-hidden="true">{dark ? '☾' : '☀'}</span>
      <span className="ml-2 whitespace-nowrap text-sm">Toggle theme</span>
    </button>
  );
}
