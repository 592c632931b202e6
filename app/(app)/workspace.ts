// The signed-in user's workspace for every page of the app: the organization, the tenant they work in (a
// cookie remembers it per browser; the first visible tenant by default) and what they may do there.
import { cookies } from 'next/headers';
import { ACTIONS, ORGANIZATION_ACTIONS, can, seesAllTenants } from '../../lib/auth/authorize';
import { getPrisma } from '../../lib/db/client';
import type { WorkspaceInfo } from '../../components/app/workspace';
import { requireSession, type PageSession } from '../session';

export const TENANT_COOKIE = 'buildit-tenant';

export async function loadWorkspace(): Promise<{ session: PageSession; workspace: WorkspaceInfo }> {
  const session = await requireSession();
  const { actor, organization } = session;
  const visible = seesAllTenants(actor) ? {} : { id: { in: Object.keys(actor.tenantRoles) } };
  const tenants = await getPrisma().tenant.findMany({
    where: { AND: [{ organizationId: organization.id }, visible] },
    select: { id: true, slug: true, name: true },
    orderBy: { name: 'asc' },
  });
  const chosen = (await cookies()).get(TENANT_COOKIE)?.value;
  const tenant = tenants.find((candidate) => candidate.id === chosen) ?? tenants[0] ?? null;
  const allowed = ACTIONS.filter((action) =>
    ORGANIZATION_ACTIONS.has(action)
      ? can(actor, action, { type: 'organization', organizationId: organization.id })
      : tenant !== null && can(actor, action, { type: 'tenant', organizationId: organization.id, tenantId: tenant.id }),
  );
  return {
    session,
    workspace: {
      user: session.user,
      organization,
      organizations: session.organizations.map(({ id, name }) => ({ id, name })),
      tenant,
      tenants,
      allowed,
    },
  };
}
