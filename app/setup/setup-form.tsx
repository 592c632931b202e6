'use client';
// The setup form: a server action (./actions.ts) through useActionState; an error keeps what was typed
// (but the password). A plain form, so Enter submits it.
import { useActionState } from 'react';
import { setUp, type SetupState } from './actions';

const INITIAL: SetupState = { error: null, organizationName: '', email: '' };
const INPUT = 'mt-1 block w-full rounded-md border border-slate-300 px-3 py-2';

/** `minPasswordLength` comes from the server: lib/auth/passwords.ts is server code (node:crypto). */
export function SetupForm({ minPasswordLength }: { minPasswordLength: number }) {
  const [state, action, pending] = useActionState(setUp, INITIAL);
  return (
    <form action={action} className="space-y-4">
      {state.error ? (
        <p role="alert" className="rounded-md bg-red-50 px-4 py-3 text-sm text-red-800">
          {state.error}
        </p>
      ) : null}
      <label className="block text-sm font-medium">
        Organization name
        <input name="organizationName" required maxLength={100} autoFocus defaultValue={state.organizationName} className={INPUT} />
      </label>
      <label className="block text-sm font-medium">
        Email
        <input name="email" type="email" required autoComplete="username" defaultValue={state.email} className={INPUT} />
      </label>
      <label className="block text-sm font-medium">
        Password
        <input
          name="password"
          type="password"
          required
          minLength={minPasswordLength}
          autoComplete="new-password"
          aria-describedby="password-hint"
          className={INPUT}
        />
      </label>
      <p id="password-hint" className="text-sm text-slate-600">
        At least {minPasswordLength} characters; a few words make a good one.
      </p>
      <button
        type="submit"
        disabled={pending}
        className="w-full rounded-md bg-blue-700 px-4 py-2 text-sm font-medium text-white hover:bg-blue-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 disabled:opacity-60"
      >
        {pending ? 'Creating…' : 'Create organization'}
      </button>
    </form>
  );
}
