'use server';
// Server actions of the app shell; like every server action, refused unless sent from BuildIt's own pages.
import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import { authorize } from '../../lib/auth/authorize';
import { switchOrganization } from '../../lib/auth/sessions';
import { getPrisma } from '../../lib/db/client';
import { actionRequest, requireSession } from '../session';
import { TENANT_COOKIE, loadWorkspace } from './workspace';

const YEAR_SECONDS = 365 * 24 * 3600;

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
    (await cookies()).delete(TENANT_COOKIE);
  }
  redirect('/');
}

/** Works in another tenant of the organization; only a tenant the user sees is remembered. */
export async function switchTenantAction(form: FormData): Promise<void> {
  const { workspace } = await loadWorkspace();
  const { crossSite } = await actionRequest();
  const tenantId = String(form.get('tenantId') ?? '');
  if (crossSite === null && workspace.tenants.some((tenant) => tenant.id === tenantId)) {
    (await cookies()).set(TENANT_COOKIE, tenantId, { httpOnly: true, sameSite: 'lax', path: '/', maxAge: YEAR_SECONDS });
  }
  redirect(localPath(String(form.get('returnTo') ?? '/')));
}

/** Only a path of this site: `//host` and `/\\host` would leave it. */
function localPath(target: string): string {
  return /^\/(?![/\\])/.test(target) ? target : '/';
}
