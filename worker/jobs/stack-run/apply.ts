/**
 * The apply phase: approved → applying → applied | errored | cancelled. Applies exactly the saved plan
 * (decrypted into a fresh checkout of the same commit or upload), and only while the state is the one the
 * plan was made against: a plan older than the state must be made again (terraform refuses a stale plan
 * too). Then the outputs go to the run and the environment, and downstream stacks get a plan.
 *
 * A run found `applying` when its job starts is one whose worker died mid-apply: it ends errored, not
 * stuck, and its state lock stays with it (the state may be half written) until someone who checked the
 * state force-unlocks it.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Prisma } from '../../../lib/generated/prisma/client';
import type { Logger } from '../../../lib/log';
import { queueDownstreamRuns, recordAppliedOutputs } from '../../../lib/stacks/outputs';
import { enqueueStackRunJob, transitionStackRun } from '../../../lib/stacks/runs';
import { planFileAddress, unseal } from '../../../lib/stacks/sealed';
import { mintRunCredential } from '../../../lib/stacks/state/credentials';
import { parseStateDocument } from '../../../lib/stacks/state/document';
import { latestVersionNumber, readStateText } from '../../../lib/stacks/state/versions';
import { endCancelled, endErrored, requireSuccess } from './finish';
import { BUSY_RETRY_MS } from './plan';
import { openSession, type Session, type StackRunDeps } from './session';

const PLAN_FILE = 'buildit.tfplan';

export const WORKER_LOST_DURING_APPLY =
  'the worker applying this run stopped before terraform finished (killed or cut off): the state may be partly written and its lock is still held by this run; check the state, then force-unlock it (buildit stacks unlock STACK)';

export async function applyPhase(deps: StackRunDeps, runId: string, jobSignal: AbortSignal, log: Logger): Promise<void> {
  const { prisma } = deps;
  const run = await prisma.stackRun.findUnique({ where: { id: runId }, include: { stack: true } });
  if (!run) return;
  if (run.status === 'applying') {
    await endErrored(prisma, runId, 'applying', WORKER_LOST_DURING_APPLY, null);
    return;
  }
  if (run.status !== 'approved') return;
  const current = await latestVersionNumber(prisma, run.stackId);
  if (current !== run.planStateVersion) {
    await endErrored(prisma, runId, 'approved', `the state changed since this plan (version ${run.planStateVersion ?? 0}, now ${current}): plan again`, null);
    return;
  }

  const credential = mintRunCredential(runId);
  try {
    if (!(await transitionStackRun(prisma, runId, ['approved'], 'applying', { backendTokenHash: credential.hash }))) return;
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      log.info({ runId, stackId: run.stackId }, 'another run of the stack is active; waiting');
      await enqueueStackRunJob(prisma, runId, 'apply', new Date(Date.now() + BUSY_RETRY_MS));
      return;
    }
    throw error;
  }

  let session: Session | null = null;
  try {
    session = await openSession(deps, run, 'apply', credential, jobSignal);
    if (!run.planFileCiphertext || !run.planFileIv || !run.planFileAuthTag || !run.planKeyId) throw new Error('the run has no saved plan to apply');
    const planFile = unseal(planFileAddress(run.stack.tenantId, runId), {
      ciphertext: run.planFileCiphertext,
      iv: run.planFileIv,
      authTag: run.planFileAuthTag,
      keyId: run.planKeyId,
    });
    await writeFile(path.join(session.workdir, PLAN_FILE), Buffer.from(planFile, 'base64'), { mode: 0o600 });
    // A fresh init (kept for the next plan): an apply does not start from a reused one it might have to retry.
    await session.init({ reuse: false });
    requireSuccess(session, await session.terraform(['apply', '-input=false', '-json', PLAN_FILE]), 'terraform apply');
    session.log.line('apply complete');
    await session.log.flush();
    const text = await readStateText(prisma, run.stack);
    await prisma.$transaction(async (tx) => {
      await recordAppliedOutputs(tx, run.stackId, runId, text === null ? null : parseStateDocument(text));
      await transitionStackRun(tx, runId, ['applying'], 'applied');
      await queueDownstreamRuns(tx, run.stackId, runId);
    });
  } catch (error) {
    if (session?.cancelRequested()) await endCancelled(prisma, runId, 'applying', session);
    else await endErrored(prisma, runId, 'applying', error, session);
  } finally {
    await session?.close();
  }
}
