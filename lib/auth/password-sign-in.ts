/**
 * Email + password sign-in. Every attempt writes one `auth.sign_in` audit row, success or failure with its
 * reason, and is refused once its account or address has too many recent failures (lib/auth/sign-in-audit.ts).
 * An unknown email, an account without a password and a wrong password get the same answer in the same
 * time, so the form does not tell which emails have accounts.
 */
import { randomBytes } from 'node:crypto';
import { passwordSignInFromEnv } from '../config/env';
import type { PrismaClient } from '../generated/prisma/client';
import { normalizeEmail } from './invitations';
import { hashPassword, verifyPassword } from './passwords';
import type { RequestOrigin } from './request-origin';
import { recordSignIn, signInThrottle } from './sign-in-audit';

export type SignInErrorCode = 'throttled' | 'invalid_credentials' | 'disabled' | 'password_sign_in_off' | 'no_organization';

export class SignInError extends Error {
  constructor(
    readonly code: SignInErrorCode,
    /** Shown to the user as it is. */
    message: string,
    /** For `throttled`: when to try again (a Retry-After header). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'SignInError';
  }
}

export interface SignedInUser {
  id: string;
  email: string;
  name: string | null;
}

/** Namespaces of the advisory locks that make attempts on one account, and from one address, take turns. */
const EMAIL_LOCK = 0x73676e31;
const ADDRESS_LOCK = 0x73676e32;

/** Verified when there is no hash to verify, so an unknown email costs as much time as a wrong password. */
let unknownUserHash: Promise<string> | undefined;

const minutes = (seconds: number) => {
  const count = Math.ceil(seconds / 60);
  return `${count} ${count === 1 ? 'minute' : 'minutes'}`;
};

export async function signInWithPassword(
  prisma: PrismaClient,
  input: { email: string; password: string; origin: RequestOrigin | null },
  now: Date = new Date(),
): Promise<{ user: SignedInUser }> {
  const email = normalizeEmail(input.email);
  const ip = input.origin?.ip ?? null;
  const result = await prisma.$transaction(
    async (tx): Promise<{ user: SignedInUser } | SignInError> => {
      // Concurrent attempts would all pass the throttle before any of them is recorded: they take turns
      // instead (account first, then address, so two attempts never wait for each other's lock).
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${EMAIL_LOCK}::int, hashtext(${email}))`;
      if (ip !== null) await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ADDRESS_LOCK}::int, hashtext(${ip}))`;

      const user = await tx.user.findUnique({
        where: { email },
        select: {
          id: true,
          email: true,
          name: true,
          passwordHash: true,
          disabledAt: true,
          orgMemberships: { orderBy: { createdAt: 'asc' }, take: 1, select: { organizationId: true } },
        },
      });
      const organizationId = user?.orgMemberships[0]?.organizationId ?? null;
      const refuse = async (code: SignInErrorCode, message: string, retryAfterSeconds?: number) => {
        await recordSignIn(tx, {
          email,
          userId: user?.id ?? null,
          organizationId,
          provider: 'password',
          outcome: 'failed',
          reason: code,
          origin: input.origin,
        });
        return new SignInError(code, message, retryAfterSeconds);
      };

      if (!passwordSignInFromEnv())
        return refuse('password_sign_in_off', 'password sign-in is turned off on this server: use one of the other ways to sign in');
      const throttled = await signInThrottle(tx, { email, ip }, now);
      if (throttled) {
        return refuse('throttled', `too many failed sign-ins, try again in ${minutes(throttled.retryAfterSeconds)}`, throttled.retryAfterSeconds);
      }
      let matches = false;
      if (user?.passwordHash) matches = await verifyPassword(input.password, user.passwordHash);
      else await verifyPassword(input.password, await (unknownUserHash ??= hashPassword(randomBytes(32).toString('base64'))));
      if (!user || !matches) return refuse('invalid_credentials', 'wrong email or password');
      // Told only to whoever knows the password: they are the account's owner, or it is compromised anyway.
      if (user.disabledAt !== null) return refuse('disabled', 'this account is disabled: ask an administrator of your organization');
      if (organizationId === null) return refuse('no_organization', 'this account is not a member of any organization: ask an administrator for an invitation');

      await recordSignIn(tx, { email, userId: user.id, organizationId, provider: 'password', outcome: 'success', origin: input.origin });
      return { user: { id: user.id, email: user.email, name: user.name } };
    },
    // Attempts on one account wait for each other's password check (about 100 ms each).
    { maxWait: 5_000, timeout: 30_000 },
  );
  if (result instanceof SignInError) throw result;
  return result;
}
