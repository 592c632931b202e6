'use server';
// Server actions of the home page; like every server action, refused unless sent from BuildIt's own pages.
import { redirect } from 'next/navigation';
import { authorize } from '../lib/auth/authorize';
import { switchOrganization } from '../lib/auth/sessions';
import { getPrisma } from '../lib/db/client';
import { actionRequest, requireSession } from './session';

/** Works in another of the user's organizations; one they do not belong to changes nothing. */
export async function switchOrganizationAction(form: FormData): Promise<void> {
  const session = await requireSession();
  const { origin, crossSite } = await actionRequest();
  const organizationId = String(form.get('organizationId') ?? '');
  const target = session.organizations.find((organization) => organization.id === organizationId);
  // The user's role there decides, as for any other access.
  const actorThere = { ...session.actor, organizationId, orgRole: target?.role ?? null, tenantRoles: {} };
  if (crossSite === null && target && authorize(actorThere, 'org.read', { type: 'organization', organizationId }).allowed) {
    await switchOrganization(getPrisma(), session.actor.sessionId, session.actor.userId, organizationId, origin);
  }
  redirect('/');
}
