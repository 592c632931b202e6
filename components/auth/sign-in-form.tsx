'use client';
// The sign-in choices: one button per OAuth provider, and email + password when the operator allows it.
import { signIn } from 'next-auth/react';
import { useState, type FormEvent } from 'react';
import { Alert, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON } from '../forms';
import { isSignInErrorCode, signInErrorMessage } from './messages';

interface Props {
  providers: Array<{ id: string; name: string }>;
  passwordEnabled: boolean;
  callbackUrl: string;
  /** The `?error=` code of a failed attempt. */
  error?: string;
  notice?: string;
}

export function SignInForm({ providers, passwordEnabled, callbackUrl, error, notice }: Props) {
  const [message, setMessage] = useState(signInErrorMessage(error));
  const [pending, setPending] = useState(false);

  async function submitPassword(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setPending(true);
    setMessage(null);
    const result = await signIn('password', { email: String(form.get('email')), password: String(form.get('password')), redirect: false, callbackUrl });
    if (result?.ok && !result.error) {
      window.location.assign(result.url ?? callbackUrl);
      return;
    }
    setPending(false);
    // A refused password sign-in comes back with the server's own words; anything else as a code.
    const error = result?.error ?? 'Callback';
    setMessage(isSignInErrorCode(error) ? signInErrorMessage(error) : error);
  }

  return (
    <div className="space-y-6">
      {notice ? <p className="rounded-md bg-green-50 px-4 py-3 text-sm text-green-800">{notice}</p> : null}
      <Alert error={message} />
      {providers.map((provider) => (
        <button key={provider.id} type="button" onClick={() => void signIn(provider.id, { callbackUrl })} className={SECONDARY_BUTTON}>
          Continue with {provider.name}
        </button>
      ))}
      {passwordEnabled ? (
        <form onSubmit={(event) => void submitPassword(event)} className="space-y-4">
          <label className="block text-sm font-medium">
            Email
            <input name="email" type="email" required autoComplete="username" autoFocus={providers.length === 0} className={INPUT} />
          </label>
          <label className="block text-sm font-medium">
            Password
            <input name="password" type="password" required autoComplete="current-password" className={INPUT} />
          </label>
          <button type="submit" disabled={pending} className={PRIMARY_BUTTON}>
            {pending ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      ) : null}
      {providers.length === 0 && !passwordEnabled ? (
        <p className="text-sm text-slate-600">No sign-in method is configured: an administrator sets one up (docs/sign-in.md).</p>
      ) : null}
    </div>
  );
}
