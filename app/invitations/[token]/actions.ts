'use server';
// Server actions of the invitation link's page; like every server action, refused unless sent from BuildIt's
// own pages (actionRequest). The token comes in the form, as it is in the page's address: it is never logged
// or written to an audit row.
import { redirect } from 'next/navigation';
import type { InvitationFormState } from '../../../components/invitations/invitation-forms';
import { acceptAsSignedInUser, acceptWithNewPassword, InvitationLinkError } from '../../../lib/auth/invitation-link';
import { INVITATION_TOKEN_PATTERN, InvitationError } from '../../../lib/auth/invitations';
import { switchOrganization } from '../../../lib/auth/sessions';
import { getPrisma } from '../../../lib/db/client';
import { actionRequest, currentSession } from '../../session';

const FROM_ELSEWHERE = 'this form must be sent from BuildIt’s own invitation page: open the link again and submit it there';

function field(form: FormData, name: string): string {
  // A hand-made request may pass anything as the form.
  const value = form instanceof FormData ? form.get(name) : null;
  return typeof value === 'string' ? value : '';
}

/** The refusals a person can act on; anything else is a bug and is thrown. */
function shown(error: unknown): string {
  if (error instanceof InvitationError || error instanceof InvitationLinkError) return error.message;
  throw error;
}

/** Someone without a password chooses one: the account is created, the invitation accepted; then sign in. */
export async function joinWithPassword(_previous: InvitationFormState, form: FormData): Promise<InvitationFormState> {
  const name = field(form, 'name');
  const { origin, crossSite } = await actionRequest();
  if (crossSite !== null) return { error: FROM_ELSEWHERE, name };
  try {
    await acceptWithNewPassword(getPrisma(), { token: field(form, 'token'), password: field(form, 'password'), name }, origin);
  } catch (error) {
    return { error: shown(error), name };
  }
  redirect('/sign-in?joined=1');
}

/** The signed-in user accepts, and the session moves to the organization joined. */
export async function acceptInvitationAction(_previous: InvitationFormState, form: FormData): Promise<InvitationFormState> {
  const token = field(form, 'token');
  const session = await currentSession();
  // Signed out meanwhile (another tab): sign in, then come back to the link.
  if (!session) redirect(INVITATION_TOKEN_PATTERN.test(token) ? `/sign-in?callbackUrl=/invitations/${token}` : '/sign-in');
  const { origin, crossSite } = await actionRequest();
  if (crossSite !== null) return { error: FROM_ELSEWHERE, name: '' };
  const prisma = getPrisma();
  let organizationId: string;
  try {
    ({ organizationId } = await acceptAsSignedInUser(prisma, session.actor.userId, token, origin));
  } catch (error) {
    return { error: shown(error), name: '' };
  }
  await switchOrganization(prisma, session.actor.sessionId, session.actor.userId, organizationId, origin);
  redirect('/');
}
