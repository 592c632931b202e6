// Button styles of the run page's actions (compact, side by side; components/forms.tsx has the full-width ones).
const BASE =
  'rounded-md px-3 py-1.5 text-sm font-medium focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-500 focus-visible:ring-offset-2 disabled:opacity-60 dark:focus-visible:ring-offset-slate-900';
export const ACTION_BUTTON = `${BASE} bg-blue-700 text-white hover:bg-blue-800`;
export const SECONDARY_ACTION_BUTTON = `${BASE} border border-slate-300 bg-white hover:bg-slate-100 dark:border-slate-600 dark:bg-slate-800 dark:hover:bg-slate-700`;
export const DANGER_BUTTON = `${BASE} bg-red-700 text-white hover:bg-red-800`;
