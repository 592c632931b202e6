'use server';
// Server actions of the home page. Next checks that a server action's request comes from this site's own
// pages (Origin against Host), the same CSRF rule as the API's (lib/auth/cross-site.ts).
import { redirect } from 'next/navigation';
import { authorize } from '../lib/auth/authorize';
import { switchOrganization } from '../lib/auth/sessions';
import { getPrisma } from '../lib/db/client';
import { requireSession } from './session';

/** Works in another of the user's organizations; one they do not belong to changes nothing. */
export async function switchOrganizationAction(form: FormData): Promise<void> {
  const session = await requireSession();
  const organizationId = String(form.get('organizationId') ?? '');
  const target = session.organizations.find((organization) => organization.id === organizationId);
  // The user's roles there decide, as for any other access.
  if (
    target &&
    authorize({ ...session.actor, organizationId, orgRole: target.role as typeof session.actor.orgRole }, 'org.read', { type: 'organization', organizationId })
      .allowed
  ) {
    await switchOrganization(getPrisma(), session.actor.sessionId, session.actor.userId, organizationId);
  }
  redirect('/');
}
