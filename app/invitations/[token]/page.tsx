import type { Metadata } from 'next';
import Link from 'next/link';
import type { ReactNode } from 'react';
import { AcceptInvitationForm, ChoosePasswordForm } from '../../../components/invitations/invitation-forms';
import { describeInvitation } from '../../../lib/auth/invitation-link';
import { normalizeEmail } from '../../../lib/auth/invitations';
import { MIN_PASSWORD_LENGTH } from '../../../lib/auth/passwords';
import { passwordSignInFromEnv } from '../../../lib/config/env';
import { getPrisma } from '../../../lib/db/client';
import { switchOrganizationAction } from '../../(app)/actions';
import { currentSession } from '../../session';
import { acceptInvitationAction, joinWithPassword } from './actions';

// The title never holds the token (it would land in the browser's history by name).
export const metadata: Metadata = { title: 'Invitation · BuildIt' };
// The invitation and the session are read on every request.
export const dynamic = 'force-dynamic';

interface Props {
  params: Promise<{ token: string }>;
}

const LINK = 'text-blue-700 underline';
const PRIMARY =
  'inline-block w-full rounded-md bg-blue-700 px-4 py-2 text-center text-sm font-medium text-white hover:bg-blue-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600';

function Page({ title, children }: { title: string; children: ReactNode }) {
  return (
    <main className="mx-auto max-w-sm px-6 py-16">
      <h1 className="text-2xl font-semibold tracking-tight">{title}</h1>
      <div className="mt-4 space-y-4 text-sm text-slate-600">{children}</div>
    </main>
  );
}

/**
 * An invitation link (`$BUILDIT_PUBLIC_URL/invitations/{token}`, in the response that created it): says what
 * it is for, and lets the invitee accept it by signing in, as the signed-in user, or, without a password,
 * by choosing one (the only way to get an account with password sign-in).
 */
export default async function InvitationPage({ params }: Props) {
  const { token } = await params;
  const [invitation, session] = await Promise.all([describeInvitation(getPrisma(), token), currentSession()]);
  const signIn = `/sign-in?callbackUrl=/invitations/${token}`;

  if (!invitation) {
    return (
      <Page title="Invitation not found">
        <p>This link names no invitation: it may have been cut off when it was copied.</p>
        <p>Check that you have the whole link, or ask an admin of the organization that invited you for a new one.</p>
      </Page>
    );
  }
  const organization = invitation.organizationName;
  const askAgain = <p>Ask an admin of {organization} for a new link.</p>;
  if (invitation.status === 'expired') {
    return (
      <Page title="This invitation has expired">
        <p>
          The invitation to join {organization} as {invitation.email} is no longer valid.
        </p>
        {askAgain}
      </Page>
    );
  }
  if (invitation.status === 'revoked') {
    return (
      <Page title="This invitation was revoked">
        <p>
          An admin of {organization} withdrew the invitation for {invitation.email}.
        </p>
        {askAgain}
      </Page>
    );
  }

  const signedInAsInvitee = session !== null && normalizeEmail(session.user.email) === invitation.email;
  if (invitation.status === 'accepted') {
    if (session !== null && invitation.acceptedByUserId === session.actor.userId) {
      const member = session.organizations.some((candidate) => candidate.id === invitation.organizationId);
      return member ? (
        <Page title={`You are a member of ${organization}`}>
          <p>You accepted this invitation.</p>
          <form action={switchOrganizationAction}>
            <input type="hidden" name="organizationId" value={invitation.organizationId} />
            <button type="submit" className={PRIMARY}>
              Open {organization}
            </button>
          </form>
        </Page>
      ) : (
        <Page title="This invitation has already been accepted">
          <p>You accepted it, but you are no longer a member of {organization}.</p>
          {askAgain}
        </Page>
      );
    }
    return (
      <Page title="This invitation has already been accepted">
        <p>An invitation link works once.</p>
        {session === null ? (
          <p>
            If you accepted it,{' '}
            <Link href={signIn} className={LINK}>
              sign in
            </Link>{' '}
            to open {organization}. Otherwise, ask an admin of {organization} for a new link.
          </p>
        ) : (
          askAgain
        )}
      </Page>
    );
  }

  // Pending.
  if (session !== null && !signedInAsInvitee) {
    return (
      <Page title="This invitation is for another email">
        <p>
          You are signed in as {session.user.email}, but the invitation to join {organization} is for {invitation.email}.
        </p>
        <p>Sign out, then open this link again and sign in as {invitation.email}.</p>
        <Link href="/sign-out" className={PRIMARY}>
          Sign out
        </Link>
      </Page>
    );
  }
  const details = (
    <p>
      This invitation is for <strong className="font-medium text-slate-900">{invitation.email}</strong>, as {invitation.role}.
    </p>
  );
  if (session !== null) {
    return (
      <Page title={`Join ${organization}`}>
        {details}
        <AcceptInvitationForm action={acceptInvitationAction} token={token} />
      </Page>
    );
  }
  const choosePassword = !invitation.userHasPassword && passwordSignInFromEnv();
  return (
    <Page title={`Join ${organization}`}>
      {details}
      <p>Sign in as {invitation.email} to accept it.</p>
      <Link href={signIn} className={PRIMARY}>
        Sign in to accept
      </Link>
      {choosePassword ? (
        <section className="border-t border-slate-200 pt-6">
          <h2 className="text-lg font-semibold text-slate-900">Choose a password</h2>
          <p className="mt-1 mb-4">
            New to BuildIt? Choose a password to create your account and join; then sign in with {invitation.email} and that password.
          </p>
          <ChoosePasswordForm action={joinWithPassword} token={token} email={invitation.email} minPasswordLength={MIN_PASSWORD_LENGTH} />
        </section>
      ) : null}
    </Page>
  );
}
