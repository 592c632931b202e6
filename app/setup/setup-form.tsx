'use client';
// The setup form: a server action (./actions.ts) through useActionState; an error keeps what was typed
// (but the password). A plain form, so Enter submits it.
import { useActionState } from 'react';
import { Alert, INPUT, NewPasswordField, PRIMARY_BUTTON } from '../../components/forms';
import { setUp, type SetupState } from './actions';

const INITIAL: SetupState = { error: null, organizationName: '', email: '' };

/** `minPasswordLength` comes from the server: lib/auth/passwords.ts is server code (node:crypto). */
export function SetupForm({ minPasswordLength }: { minPasswordLength: number }) {
  const [state, action, pending] = useActionState(setUp, INITIAL);
  return (
    <form action={action} className="space-y-4">
      <Alert error={state.error} />
      <label className="block text-sm font-medium">
        Organization name
        <input name="organizationName" required maxLength={100} autoFocus defaultValue={state.organizationName} className={INPUT} />
      </label>
      <label className="block text-sm font-medium">
        Email
        <input name="email" type="email" required autoComplete="username" defaultValue={state.email} className={INPUT} />
      </label>
      <NewPasswordField minLength={minPasswordLength} />
      <button type="submit" disabled={pending} className={PRIMARY_BUTTON}>
        {pending ? 'Creating…' : 'Create organization'}
      </button>
    </form>
  );
}
