/**
 * After an apply: the stack's outputs (sensitive ones without their value) go to the run and to the linked
 * environment, the drift mark is cleared, and every stack that takes one of this stack's outputs as a
 * variable gets a plan queued (it is applied after its own approval, or at once when it auto-applies).
 */
import type { Prisma } from '../generated/prisma/client';
import { createStackRun } from './runs';
import { maskedOutputs, type StateDocument } from './state/document';

type Tx = Prisma.TransactionClient;

export async function recordAppliedOutputs(tx: Tx, stackId: string, runId: string, state: StateDocument | null): Promise<void> {
  const outputs = (state ? maskedOutputs(state) : {}) as Prisma.InputJsonObject;
  await tx.stackRun.update({ where: { id: runId }, data: { outputs } });
  await tx.environment.updateMany({ where: { stackId }, data: { outputs } });
  await tx.stack.update({ where: { id: stackId }, data: { drifted: false } });
}

/** Queues an apply run of each downstream stack; returns their ids. */
export async function queueDownstreamRuns(tx: Tx, stackId: string, runId: string): Promise<string[]> {
  const downstream = await tx.stackVariable.findMany({ where: { sourceStackId: stackId }, select: { stackId: true }, distinct: ['stackId'] });
  const runs: string[] = [];
  for (const { stackId: downstreamId } of downstream) {
    if (downstreamId === stackId) continue;
    const run = await createStackRun(tx, { stackId: downstreamId, kind: 'apply', event: 'upstream', triggeredById: null, triggeredBy: `upstream:${runId}` });
    runs.push(run.id);
  }
  return runs;
}
