// Button styles of the pipeline pages: the shared form buttons (components/forms.tsx) are full-width; these
// size to their text, with the same colours, dark variants and visible focus. Inputs use forms.tsx's INPUT.
const BASE =
  'inline-flex items-center justify-center rounded-md px-4 py-2 text-sm font-medium focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 disabled:opacity-60';

export const BUTTON = {
  primary: `${BASE} bg-blue-700 text-white hover:bg-blue-800 dark:bg-blue-600 dark:hover:bg-blue-500`,
  secondary: `${BASE} border border-slate-300 bg-white text-slate-900 hover:bg-slate-100 dark:border-slate-600 dark:bg-slate-800 dark:text-slate-100 dark:hover:bg-slate-700`,
  danger: `${BASE} border border-red-300 bg-white text-red-800 hover:bg-red-50 dark:border-red-800 dark:bg-slate-800 dark:text-red-300 dark:hover:bg-red-950`,
} as const;
