/**
 * Every sign-in attempt is one `auth.sign_in` audit row, and those rows are the rate limit too: counting
 * them in the shared database makes the limit hold across web replicas and restarts without a store of its
 * own. The password never reaches a row.
 */
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import { recordAudit } from './audit';
import { normalizeEmail } from './invitations';
import type { RequestOrigin } from './request-origin';

type Db = PrismaClient | Prisma.TransactionClient;

export const SIGN_IN_ACTION = 'auth.sign_in';
export const THROTTLE_WINDOW_MS = 15 * 60 * 1000;
/** Failed sign-ins allowed per account, then per client address, within the window. */
export const MAX_FAILURES_PER_EMAIL = 5;
export const MAX_FAILURES_PER_ADDRESS = 20;
/** Longest email recorded, so a client cannot fill the audit log with one field. */
const MAX_EMAIL_LENGTH = 320;

export interface SignInAttempt {
  email: string;
  /** The account signed in to, or tried; null for an unknown email. */
  userId: string | null;
  /** The user's first organization, whose audit log shows the attempt; null when there is none. */
  organizationId: string | null;
  /** `password`, `oidc`, `github`, `google`. */
  provider: string;
  outcome: 'success' | 'failed';
  /** Why it failed: `throttled`, `invalid_credentials`, `disabled`, ... */
  reason?: string;
  origin: RequestOrigin | null;
}

export async function recordSignIn(prisma: Db, attempt: SignInAttempt): Promise<void> {
  const email = normalizeEmail(attempt.email).slice(0, MAX_EMAIL_LENGTH);
  await recordAudit(prisma, null, {
    action: SIGN_IN_ACTION,
    outcome: attempt.outcome,
    // Only a success is the user's own doing; a failure may be anyone trying their account.
    userId: attempt.outcome === 'success' ? attempt.userId : null,
    organizationId: attempt.organizationId ?? undefined,
    targetType: 'user',
    targetId: attempt.userId ?? email,
    details: { email, provider: attempt.provider, ...(attempt.reason === undefined ? {} : { reason: attempt.reason }) },
    origin: attempt.origin,
  });
}

/**
 * Whether more password sign-ins are refused for this account or this address, and for how long: null, or
 * the seconds until the oldest failure that keeps the count at its limit leaves the window. Only password
 * failures count (a provider refusing someone guesses nothing); refused attempts count too, so an attacker
 * who keeps trying stays locked out. The address is what the request
 * says (lib/auth/request-origin.ts): it holds against one client only behind a proxy that sets
 * X-Forwarded-For; the per-account limit holds whatever the address.
 */
export async function signInThrottle(
  prisma: Db,
  key: { email: string; ip: string | null },
  now: Date = new Date(),
): Promise<{ retryAfterSeconds: number } | null> {
  const email = normalizeEmail(key.email).slice(0, MAX_EMAIL_LENGTH);
  // Rows of a known account name it by id, an unknown email's by the email. One query per name and one per
  // address, each reading at most `limit` entries of an index backwards, however hard an account is tried.
  const user = await prisma.user.findUnique({ where: { email }, select: { id: true } });
  const since = new Date(now.getTime() - THROTTLE_WINDOW_MS);
  const newest = async (where: Prisma.AuditLogWhereInput, limit: number) => {
    const rows = await prisma.auditLog.findMany({
      where: { action: SIGN_IN_ACTION, outcome: 'failed', details: { path: ['provider'], equals: 'password' }, createdAt: { gt: since }, ...where },
      orderBy: { createdAt: 'desc' },
      take: limit,
      select: { createdAt: true },
    });
    return rows.map((row) => row.createdAt.getTime());
  };
  const byEmail = (await Promise.all([email, ...(user ? [user.id] : [])].map((targetId) => newest({ targetId }, MAX_FAILURES_PER_EMAIL)))).flat();
  const byAddress = key.ip === null ? [] : await newest({ ip: key.ip }, MAX_FAILURES_PER_ADDRESS);
  /** When the count falls below the limit: the limit-th newest failure leaves the window. */
  const freeAt = (times: number[], limit: number) => (times.length < limit ? 0 : times.sort((a, b) => b - a)[limit - 1]! + THROTTLE_WINDOW_MS);
  const wait = Math.max(freeAt(byEmail, MAX_FAILURES_PER_EMAIL), freeAt(byAddress, MAX_FAILURES_PER_ADDRESS)) - now.getTime();
  return wait > 0 ? { retryAfterSeconds: Math.ceil(wait / 1000) } : null;
}
