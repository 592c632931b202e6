/**
 * Who may come in through a sign-in provider. Users are matched by verified email. An unknown email gets
 * an account only when an invitation is pending for it or an organization admits its domain; at sign-in
 * the user's pending invitations are accepted (the provider verified the email the invitation names, as
 * GitLab does for confirmed emails) and the organizations admitting the domain are joined as `member`.
 */
import type { PrismaClient } from '../generated/prisma/client';
import { recordAudit } from './audit';
import { claimInvitation, InvitationError, normalizeEmail, organizationsAdmittingEmail, pendingInvitationsFor, recordInvitationAccepted } from './invitations';
import type { RequestOrigin } from './request-origin';

export type Refusal = 'not_invited' | 'disabled' | 'no_organization';

export const REFUSAL_MESSAGES: Readonly<Record<Refusal, string>> = {
  not_invited: 'this email is not invited to any organization: ask an administrator for an invitation, then sign in again',
  disabled: 'this account is disabled: ask an administrator',
  no_organization: 'you are not a member of any organization anymore: ask an administrator for an invitation',
};

export type Admission = { userId: string } | { refused: Refusal };

export async function admitUser(
  prisma: PrismaClient,
  input: { email: string; name: string | null; origin: RequestOrigin | null },
  now: Date = new Date(),
): Promise<Admission> {
  const email = normalizeEmail(input.email);
  return prisma.$transaction(async (tx) => {
    const existing = await tx.user.findUnique({ where: { email }, select: { id: true, disabledAt: true } });
    if (existing?.disabledAt) return { refused: 'disabled' };
    const [pending, admitting] = await Promise.all([pendingInvitationsFor(tx, email, now), organizationsAdmittingEmail(tx, email)]);
    if (!existing && pending.length === 0 && admitting.length === 0) return { refused: 'not_invited' };

    // Two first sign-ins of one email at once (two tabs): the second waits for the first's row and uses it.
    if (!existing) await tx.user.createMany({ data: [{ email, name: input.name }], skipDuplicates: true });
    const user = existing ?? (await tx.user.findUniqueOrThrow({ where: { email }, select: { id: true } }));
    for (const invitation of pending) {
      try {
        const accepted = await claimInvitation(tx, invitation, { id: user.id, email }, now);
        await recordInvitationAccepted(tx, { id: user.id, email }, accepted, input.origin, { via: 'sign-in' });
      } catch (error) {
        // Already a member (invited twice) or taken by a concurrent sign-in: nothing to add.
        if (!(error instanceof InvitationError)) throw error;
      }
    }
    for (const organization of admitting) {
      const joined = await tx.orgMembership.createMany({ data: [{ organizationId: organization.id, userId: user.id, role: 'member' }], skipDuplicates: true });
      if (joined.count === 0) continue;
      await recordAudit(tx, null, {
        userId: user.id,
        organizationId: organization.id,
        action: 'member.join',
        targetType: 'member',
        targetId: user.id,
        details: { email, role: 'member', via: 'allowed email domain' },
        origin: input.origin,
      });
    }
    const memberships = await tx.orgMembership.count({ where: { userId: user.id } });
    return memberships === 0 ? { refused: 'no_organization' } : { userId: user.id };
  });
}
