/**
 * The lock on a stack's state, as Terraform's HTTP backend takes it (LOCK/UNLOCK): one row per locked
 * stack holding the lock info Terraform sent and who took it. Taking it is an insert that fails on the
 * primary key when it is held, so two `terraform apply` at once cannot both get it.
 */
import { z } from 'zod';
import type { Prisma, PrismaClient } from '../../generated/prisma/client';

type Db = PrismaClient | Prisma.TransactionClient;

/** Terraform's lock info (statemgr.LockInfo); only the ID is required. */
export const LockInfo = z.looseObject({
  ID: z.string().min(1).max(200),
  Operation: z.string().optional(),
  Info: z.string().optional(),
  Who: z.string().optional(),
  Version: z.string().optional(),
  Created: z.string().optional(),
  Path: z.string().optional(),
});
export type LockInfo = z.output<typeof LockInfo>;

export type LockHolder = { runId: string } | { userId: string | null; apiKeyId: string | null };

export type LockAttempt = { acquired: true } | { acquired: false; held: LockInfo };

function holderColumns(holder: LockHolder) {
  return 'runId' in holder ? { runId: holder.runId } : { userId: holder.userId, apiKeyId: holder.apiKeyId };
}

export async function acquireLock(prisma: Db, stackId: string, info: LockInfo, holder: LockHolder): Promise<LockAttempt> {
  // Released between our insert and our read: try again (at most a few times; a lock taken and released
  // in a loop by someone else is not our problem to win).
  for (let attempt = 0; attempt < 3; attempt++) {
    const { count } = await prisma.stateLock.createMany({
      data: [{ stackId, lockId: info.ID, info: info as Prisma.InputJsonValue, ...holderColumns(holder) }],
      skipDuplicates: true,
    });
    if (count === 1) return { acquired: true };
    const held = await prisma.stateLock.findUnique({ where: { stackId }, select: { info: true } });
    if (held) return { acquired: false, held: held.info as LockInfo };
  }
  throw new Error(`the state lock of stack ${stackId} changes hands too fast to take it: try again`);
}

export type UnlockResult = { released: true } | { released: false; held: LockInfo | null };

/** Releases the lock when `lockId` is the one held; otherwise says what is held (null: nothing). */
export async function releaseLock(prisma: Db, stackId: string, lockId: string): Promise<UnlockResult> {
  const { count } = await prisma.stateLock.deleteMany({ where: { stackId, lockId } });
  if (count === 1) return { released: true };
  const held = await prisma.stateLock.findUnique({ where: { stackId }, select: { info: true } });
  return { released: false, held: held ? (held.info as LockInfo) : null };
}

/** Removes whatever lock is held; returns it (null: there was none). */
export async function forceUnlock(prisma: Db, stackId: string) {
  const [held] = await prisma.stateLock.findMany({ where: { stackId } });
  if (!held) return null;
  await prisma.stateLock.deleteMany({ where: { stackId, lockId: held.lockId } });
  return held;
}

/** Locks a run's terraform left behind (it was cancelled and killed): released with the run. */
export async function releaseRunLocks(prisma: Db, runId: string): Promise<number> {
  const { count } = await prisma.stateLock.deleteMany({ where: { runId } });
  return count;
}
