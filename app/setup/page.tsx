import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { setupNeeded } from '../../lib/auth/first-run';
import { MIN_PASSWORD_LENGTH } from '../../lib/auth/passwords';
import { getPrisma } from '../../lib/db/client';
import { SetupForm } from './setup-form';

export const metadata: Metadata = { title: 'Set up · BuildIt' };
// Whether setup is still needed is read from the database on every request.
export const dynamic = 'force-dynamic';

/** A fresh install's first page: the first organization and its owner. Gone once anyone can sign in. */
export default async function SetupPage() {
  if (!(await setupNeeded(getPrisma()))) redirect('/sign-in');
  return (
    <main className="mx-auto max-w-sm px-6 py-16">
      <h1 className="text-2xl font-semibold tracking-tight">Set up BuildIt</h1>
      <p className="mt-2 text-sm text-slate-600">Create the first organization and its owner: you sign in with this email and password afterwards.</p>
      <div className="mt-8">
        <SetupForm minPasswordLength={MIN_PASSWORD_LENGTH} />
      </div>
    </main>
  );
}
