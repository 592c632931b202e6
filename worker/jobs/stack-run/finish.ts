/** How a phase ends when terraform did not succeed: cancelled (its locks released) or errored, with why. */
import { messageOf } from '../../../lib/errors';
import type { PrismaClient } from '../../../lib/generated/prisma/client';
import type { StackRunStatus } from '../../../lib/generated/prisma/enums';
import { transitionStackRun } from '../../../lib/stacks/runs';
import { releaseRunLocks } from '../../../lib/stacks/state/locks';
import type { TerraformExit } from '../../../lib/stacks/terraform/process';
import type { Session } from './session';

export async function endCancelled(prisma: PrismaClient, runId: string, from: StackRunStatus, session: Session | null): Promise<void> {
  // terraform releases its lock on SIGINT; one killed after the grace period could not.
  const released = await releaseRunLocks(prisma, runId);
  if (released > 0) session?.log.line('released the state lock terraform held');
  session?.log.line('run cancelled');
  await session?.log.flush();
  await transitionStackRun(prisma, runId, [from], 'cancelled', { reason: 'cancelled' });
}

/** `why`: a message, or what was thrown; masked like the log (an error may quote a value). */
export async function endErrored(prisma: PrismaClient, runId: string, from: StackRunStatus, why: unknown, session: Session | null): Promise<void> {
  const reason = session ? session.log.mask(typeof why === 'string' ? why : messageOf(why)) : typeof why === 'string' ? why : messageOf(why);
  session?.log.line(`error: ${reason}`);
  await session?.log.flush();
  await transitionStackRun(prisma, runId, [from], 'errored', { reason });
}

/** A terraform step that did not succeed: the phase ends (cancelled when a cancel stopped it, else errored). */
export function requireSuccess(session: Session, exit: TerraformExit, what: string, successCodes: readonly number[] = [0]): void {
  if (session.cancelRequested()) throw new Error(`${what} was cancelled`);
  if (exit.code === null || !successCodes.includes(exit.code)) throw new Error(`${what} failed (exit ${exit.code ?? 'killed'}): see the log`);
}
