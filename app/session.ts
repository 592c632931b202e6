// The signed-in user of a page or server action, from the session cookie (lib/auth): the same check as the
// API's, so a revoked session is signed out everywhere at once.
import { cookies, headers } from 'next/headers';
import { redirect } from 'next/navigation';
import type { Actor } from '../lib/auth/authorize';
import type { OrgRole } from '../lib/generated/prisma/enums';
import { crossSiteProblem } from '../lib/auth/cross-site';
import { AuthError } from '../lib/auth/errors';
import { requestOrigin, type RequestOrigin } from '../lib/auth/request-origin';
import { sessionIdFromCookies } from '../lib/auth/session-cookie';
import { organizationsOf, sessionActor } from '../lib/auth/sessions';
import { getPrisma } from '../lib/db/client';

export interface PageSession {
  actor: Actor & { userId: string; sessionId: string };
  user: { email: string; name: string | null };
  organization: { id: string; slug: string; name: string };
  /** Every organization the user may switch to. */
  organizations: Array<{ id: string; slug: string; name: string; role: OrgRole }>;
}

/** The session, or null when signed out (no cookie, or a cookie of an ended session). */
export async function currentSession(): Promise<PageSession | null> {
  const sessionId = await sessionIdFromCookies((await cookies()).toString());
  if (sessionId === null || sessionId === 'invalid') return null;
  const prisma = getPrisma();
  let actor: Actor & { userId: string };
  try {
    actor = await sessionActor(prisma, sessionId);
  } catch (error) {
    if (error instanceof AuthError) return null;
    throw error;
  }
  const [user, organizations] = await Promise.all([
    prisma.user.findUniqueOrThrow({ where: { id: actor.userId }, select: { email: true, name: true } }),
    organizationsOf(prisma, actor.userId),
  ]);
  const organization = organizations.find((candidate) => candidate.id === actor.organizationId)!;
  return { actor: { ...actor, sessionId }, user, organization, organizations };
}

/** The session of a page that needs one; signed-out visitors go to the sign-in page. */
export async function requireSession(): Promise<PageSession> {
  const session = await currentSession();
  if (!session) redirect('/sign-in');
  return session;
}

/**
 * Where a server action's request came from, for audit rows, and why it must be refused when it did not
 * come from BuildIt's own pages. Next refuses a foreign Origin itself but lets a request without one through;
 * crossSiteProblem refuses that too.
 */
export async function actionRequest(): Promise<{ origin: RequestOrigin; crossSite: string | null }> {
  const requestHeaders = await headers();
  return { origin: requestOrigin({ headers: requestHeaders }), crossSite: crossSiteProblem('POST', requestHeaders) };
}
