// The pieces every form of the app shares, so they look and behave alike: field and button styles, the
// error alert (role="alert", read out by screen readers), and a new-password field with its hint.

export const INPUT =
  'mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 dark:border-slate-600 dark:bg-slate-800 dark:text-slate-100';
export const PRIMARY_BUTTON =
  'w-full rounded-md bg-blue-700 px-4 py-2 text-sm font-medium text-white hover:bg-blue-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 disabled:opacity-60';
export const SECONDARY_BUTTON =
  'w-full rounded-md border border-slate-300 bg-white px-4 py-2 text-sm font-medium hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 disabled:opacity-60 dark:border-slate-600 dark:bg-slate-800 dark:hover:bg-slate-700';

export function Alert({ error }: { error: string | null | undefined }) {
  return error ? (
    <p role="alert" className="rounded-md bg-red-50 px-4 py-3 text-sm text-red-800 dark:bg-red-950 dark:text-red-100">
      {error}
    </p>
  ) : null;
}

/** `minLength` comes from the server: lib/auth/passwords.ts is server code (node:crypto). */
export function NewPasswordField({ minLength }: { minLength: number }) {
  return (
    <>
      <label className="block text-sm font-medium">
        Password
        <input name="password" type="password" required minLength={minLength} autoComplete="new-password" aria-describedby="password-hint" className={INPUT} />
      </label>
      <p id="password-hint" className="text-sm text-slate-600 dark:text-slate-400">
        At least {minLength} characters; a few words make a good one.
      </p>
    </>
  );
}
