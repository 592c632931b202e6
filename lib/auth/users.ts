/**
 * Disabling a user (an operator's `buildit admin disable-user`): they cannot sign in, their sessions end at
 * once and their personal API tokens stop working (kept, so enabling the user again restores them).
 */
import type { PrismaClient } from '../generated/prisma/client';
import { recordAudit } from './audit';
import { normalizeEmail } from './invitations';
import { revokeUserSessions } from './sessions';

export interface DisableResult {
  userId: string;
  /** Sessions ended now (0 when enabling). */
  endedSessions: number;
}

/** Null when no user has this email. */
export async function setUserDisabled(prisma: PrismaClient, email: string, disabled: boolean, now: Date = new Date()): Promise<DisableResult | null> {
  return prisma.$transaction(async (tx) => {
    const user = await tx.user.findUnique({ where: { email: normalizeEmail(email) }, select: { id: true, email: true } });
    if (!user) return null;
    await tx.user.update({ where: { id: user.id }, data: { disabledAt: disabled ? now : null } });
    const endedSessions = disabled ? await revokeUserSessions(tx, user.id, undefined, now) : 0;
    await recordAudit(tx, null, {
      action: disabled ? 'user.disable' : 'user.enable',
      targetType: 'user',
      targetId: user.id,
      details: { email: user.email, endedSessions, via: 'buildit admin' },
      origin: null,
    });
    return { userId: user.id, endedSessions };
  });
}
