import type { Metadata } from 'next';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { SignInForm } from '../../components/auth/sign-in-form';
import { passwordSignInFromEnv } from '../../lib/config/env';
import { setupNeeded } from '../../lib/auth/first-run';
import { oauthProviders } from '../../lib/auth/next-auth';
import { getPrisma } from '../../lib/db/client';
import { currentSession } from '../session';

export const metadata: Metadata = { title: 'Sign in · BuildIt' };
export const dynamic = 'force-dynamic';

interface Props {
  searchParams: Promise<{ error?: string; callbackUrl?: string; setup?: string; joined?: string }>;
}

/** Only paths of this site: a sign-in link must not send the user elsewhere afterwards. */
function localPath(url: string | undefined): string {
  return url && url.startsWith('/') && !url.startsWith('//') ? url : '/';
}

export default async function SignInPage({ searchParams }: Props) {
  const { error, callbackUrl, setup, joined } = await searchParams;
  if (await currentSession()) redirect(localPath(callbackUrl));
  return (
    <main className="mx-auto max-w-sm px-6 py-16">
      <h1 className="text-2xl font-semibold tracking-tight">Sign in to BuildIt</h1>
      {(await setupNeeded(getPrisma())) ? (
        <p className="mt-4 rounded-md bg-amber-50 px-4 py-3 text-sm text-amber-900">
          Nobody can sign in yet: this is a new installation.{' '}
          <Link href="/setup" className="font-medium underline">
            Set up BuildIt
          </Link>{' '}
          to create the first organization and its owner.
        </p>
      ) : null}
      <div className="mt-8">
        <SignInForm
          providers={oauthProviders()}
          passwordEnabled={passwordSignInFromEnv()}
          callbackUrl={localPath(callbackUrl)}
          error={error}
          notice={
            setup === 'done'
              ? 'Your organization is ready: sign in with the email and password you chose.'
              : joined === '1'
                ? 'Your account is ready: sign in with your email and the password you chose.'
                : undefined
          }
        />
      </div>
    </main>
  );
}
