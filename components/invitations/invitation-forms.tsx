'use client';
// The forms of the invitation link's page (app/invitations/[token]): choosing a password to join, and
// accepting as the signed-in user. Each calls a server action given by the page, through useActionState; an
// error shows in an alert and keeps what was typed but the password. Plain forms, so Enter submits them.
import { useActionState } from 'react';
import { Alert, INPUT, NewPasswordField, PRIMARY_BUTTON } from '../forms';

export interface InvitationFormState {
  error: string | null;
  /** What was typed, shown again with the error (never the password). */
  name: string;
}

export type InvitationFormAction = (previous: InvitationFormState, form: FormData) => Promise<InvitationFormState>;

const INITIAL: InvitationFormState = { error: null, name: '' };

/** A new account for the invitation's email: `minPasswordLength` comes from the server (lib/auth/passwords.ts is server code). */
export function ChoosePasswordForm({
  action,
  token,
  email,
  minPasswordLength,
}: {
  action: InvitationFormAction;
  token: string;
  email: string;
  minPasswordLength: number;
}) {
  const [state, formAction, pending] = useActionState(action, INITIAL);
  return (
    <form action={formAction} className="space-y-4">
      <Alert error={state.error} />
      <input type="hidden" name="token" value={token} />
      <label className="block text-sm font-medium">
        Email
        <input name="email" type="email" value={email} readOnly autoComplete="username" className={`${INPUT} bg-slate-50 text-slate-600`} />
      </label>
      <label className="block text-sm font-medium">
        Name <span className="font-normal text-slate-600">(optional)</span>
        <input name="name" maxLength={100} autoComplete="name" defaultValue={state.name} className={INPUT} />
      </label>
      <NewPasswordField minLength={minPasswordLength} />
      <button type="submit" disabled={pending} className={PRIMARY_BUTTON}>
        {pending ? 'Creating…' : 'Create account and join'}
      </button>
    </form>
  );
}

/** The signed-in user joins with the invitation's role. */
export function AcceptInvitationForm({ action, token }: { action: InvitationFormAction; token: string }) {
  const [state, formAction, pending] = useActionState(action, INITIAL);
  return (
    <form action={formAction} className="space-y-4">
      <Alert error={state.error} />
      <input type="hidden" name="token" value={token} />
      <button type="submit" disabled={pending} className={PRIMARY_BUTTON}>
        {pending ? 'Accepting…' : 'Accept invitation'}
      </button>
    </form>
  );
}
