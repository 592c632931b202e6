import type { Metadata } from 'next';
import Link from 'next/link';
import { SignOutButton } from '../../components/auth/sign-out-button';
import { requireSession } from '../session';

export const metadata: Metadata = { title: 'Sign out · BuildIt' };
export const dynamic = 'force-dynamic';

export default async function SignOutPage() {
  const session = await requireSession();
  return (
    <main className="mx-auto max-w-sm px-6 py-16">
      <h1 className="text-2xl font-semibold tracking-tight">Sign out</h1>
      <p className="mt-4 text-sm text-slate-600">You are signed in as {session.user.email}. Signing out ends this session on the server.</p>
      <div className="mt-8 flex items-center gap-4">
        <SignOutButton />
        <Link href="/" className="text-sm text-blue-700 underline">
          Cancel
        </Link>
      </div>
    </main>
  );
}
