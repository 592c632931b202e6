/**
 * The invitation link's page (app/invitations/[token]): what the link is for, and the two ways to accept it
 * in a browser. A signed-in user whose email is the invitation's accepts it (`acceptAsSignedInUser`); a
 * person without a password, on an install with password sign-in, chooses one there and so gets an account
 * (`acceptWithNewPassword`): there is no other sign-up. OAuth sign-in accepts pending invitations by itself
 * (lib/auth/admission.ts).
 *
 * The token is the link's secret: it is looked up by its hash and never returned, logged or audited.
 */
import { passwordSignInFromEnv } from '../config/env';
import type { Invitation, Prisma, PrismaClient } from '../generated/prisma/client';
import type { OrgRole } from '../generated/prisma/enums';
import { acceptInvitation, INVITATION_TOKEN_PATTERN, InvitationError, recordInvitationAccepted, type AcceptedInvitation } from './invitations';
import { hashPassword, passwordProblem } from './passwords';
import type { RequestOrigin } from './request-origin';
import { hashToken } from './tokens';

export type InvitationStatus = 'pending' | 'accepted' | 'expired' | 'revoked';

export interface InvitationDescription {
  organizationId: string;
  organizationName: string;
  /** The only email that may accept it. */
  email: string;
  role: OrgRole;
  status: InvitationStatus;
  acceptedByUserId: string | null;
  /** Whether a user with the invitation's email exists and has a password (then: sign in, not choose one). */
  userHasPassword: boolean;
}

export const MAX_NAME_LENGTH = 100;

export type InvitationLinkErrorCode =
  /** The password cannot be chosen (too short, too long). */
  | 'invalid_password'
  | 'invalid_name'
  /** The email already has an account: sign in with it instead of choosing a password. */
  | 'has_account'
  | 'disabled'
  | 'password_sign_in_off';

/** Why the link cannot be used this way; the message is shown to the person as it is (never the password or token). */
export class InvitationLinkError extends Error {
  constructor(
    readonly code: InvitationLinkErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'InvitationLinkError';
  }
}

const HAS_ACCOUNT = 'you already have an account: sign in, then open the link again';

/** The invitation of a well-formed token, else null. */
async function findByToken(prisma: PrismaClient | Prisma.TransactionClient, token: string): Promise<Invitation | null> {
  if (!INVITATION_TOKEN_PATTERN.test(token)) return null;
  return prisma.invitation.findUnique({ where: { tokenHash: hashToken(token) } });
}

/** The same order as the API's status (lib/api/serialize.ts): an accepted invitation stays accepted. */
function statusOf(invitation: Invitation, now: Date): InvitationStatus {
  if (invitation.acceptedAt !== null) return 'accepted';
  if (invitation.revokedAt !== null) return 'revoked';
  return invitation.expiresAt <= now ? 'expired' : 'pending';
}

/** What the page shows about a link; null when the token has the wrong shape or names no invitation. */
export async function describeInvitation(prisma: PrismaClient, token: string, now: Date = new Date()): Promise<InvitationDescription | null> {
  const invitation = await findByToken(prisma, token);
  if (!invitation) return null;
  const [organization, user] = await Promise.all([
    prisma.organization.findUniqueOrThrow({ where: { id: invitation.organizationId }, select: { name: true } }),
    prisma.user.findUnique({ where: { email: invitation.email }, select: { passwordHash: true } }),
  ]);
  return {
    organizationId: invitation.organizationId,
    organizationName: organization.name,
    email: invitation.email,
    role: invitation.role,
    status: statusOf(invitation, now),
    acceptedByUserId: invitation.acceptedById,
    userHasPassword: user?.passwordHash != null,
  };
}

/** The refusal acceptInvitation would make, said before anything is written (it checks again, atomically). */
function unusable(invitation: Invitation | null, now: Date): InvitationError | null {
  if (!invitation) return new InvitationError('not_found', 'invitation not found: check the link, or ask an admin of the organization for a new one');
  switch (statusOf(invitation, now)) {
    case 'accepted':
      return new InvitationError('used', 'this invitation has already been accepted: links work once');
    case 'revoked':
      return new InvitationError('revoked', 'this invitation was revoked: ask an admin of the organization for a new one');
    case 'expired':
      return new InvitationError('expired', 'this invitation has expired: ask an admin of the organization for a new one');
    case 'pending':
      return null;
  }
}

/**
 * A person without a password accepts the link by choosing one: the user of the invitation's email is
 * created with it (or an existing user row that never had a password nor any access gets it), joins the
 * organization, and signs in afterwards with that email and password. One transaction: a refused link
 * creates nothing. Returns the user's id.
 *
 * A user who already has a password, or an account of another kind (a member somewhere, a past sign-in, an
 * API token), is refused: whoever holds a link must not be able to take an existing account over.
 */
export async function acceptWithNewPassword(
  prisma: PrismaClient,
  input: { token: string; password: string; name?: string | null },
  origin: RequestOrigin | null,
  now: Date = new Date(),
): Promise<string> {
  if (!passwordSignInFromEnv())
    throw new InvitationLinkError('password_sign_in_off', 'password sign-in is turned off here: sign in with your sign-in provider instead');
  const early = unusable(await findByToken(prisma, input.token), now);
  if (early) throw early;
  const problem = passwordProblem(input.password);
  if (problem !== null) throw new InvitationLinkError('invalid_password', problem);
  const name = input.name?.trim() || null;
  if (name !== null && [...name].length > MAX_NAME_LENGTH)
    throw new InvitationLinkError('invalid_name', `the name is too long: use at most ${MAX_NAME_LENGTH} characters`);
  // About 100 ms: outside the transaction, which stays short.
  const passwordHash = await hashPassword(input.password);

  return prisma.$transaction(async (tx) => {
    const invitation = await findByToken(tx, input.token);
    const refusal = unusable(invitation, now);
    if (refusal) throw refusal;
    const email = invitation!.email;
    const existing = await tx.user.findUnique({
      where: { email },
      select: { id: true, passwordHash: true, disabledAt: true, _count: { select: { orgMemberships: true, sessions: true, apiKeys: true } } },
    });
    let userId: string;
    let account: 'created' | 'password set';
    if (!existing) {
      // A concurrent first use of the link waits here for the other's row, then finds the email taken.
      const created = await tx.user.createMany({ data: [{ email, name, passwordHash }], skipDuplicates: true });
      if (created.count === 0) throw new InvitationLinkError('has_account', HAS_ACCOUNT);
      userId = (await tx.user.findUniqueOrThrow({ where: { email }, select: { id: true } })).id;
      account = 'created';
    } else {
      if (existing.disabledAt !== null) throw new InvitationLinkError('disabled', 'this account is disabled: ask an administrator');
      const { orgMemberships, sessions, apiKeys } = existing._count;
      if (existing.passwordHash !== null || orgMemberships + sessions + apiKeys > 0) throw new InvitationLinkError('has_account', HAS_ACCOUNT);
      const set = await tx.user.updateMany({ where: { id: existing.id, passwordHash: null }, data: { passwordHash, ...(name ? { name } : {}) } });
      if (set.count === 0) throw new InvitationLinkError('has_account', HAS_ACCOUNT);
      userId = existing.id;
      account = 'password set';
    }
    const user = { id: userId, email };
    const accepted = await acceptInvitation(tx, input.token, user, now);
    await recordInvitationAccepted(tx, user, accepted, origin, { via: 'link', account });
    return userId;
  });
}

/**
 * A signed-in user accepts the link: the invitation must be for their email (else not found, as
 * acceptInvitation says for anyone else's link).
 */
export async function acceptAsSignedInUser(
  prisma: PrismaClient,
  actorUserId: string,
  token: string,
  origin: RequestOrigin | null,
  now: Date = new Date(),
): Promise<AcceptedInvitation> {
  const user = await prisma.user.findUniqueOrThrow({ where: { id: actorUserId }, select: { id: true, email: true } });
  return prisma.$transaction(async (tx) => {
    const accepted = await acceptInvitation(tx, token, user, now);
    await recordInvitationAccepted(tx, user, accepted, origin, { via: 'link' });
    return accepted;
  });
}
