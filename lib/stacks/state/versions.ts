/**
 * State versions: every write of a stack's state (the backend's POST, a rollback) is a new row, encrypted,
 * never changed. The highest number is the current state. Numbers come from the stack row, whose update
 * also serializes writers.
 */
import { createHash } from 'node:crypto';
import type { Prisma, PrismaClient } from '../../generated/prisma/client';
import { seal, stateAddress, unseal } from '../sealed';
import { parseStateDocument } from './document';

type Tx = Prisma.TransactionClient;

/** Who wrote a version: a BuildIt run (its backend credential), or a person (an API token, a rollback). */
export type StateWriter = { runId: string } | { userId: string | null; apiKeyId: string | null };

export const VERSION_LISTING = {
  id: true,
  stackId: true,
  number: true,
  serial: true,
  lineage: true,
  md5: true,
  runId: true,
  createdById: true,
  rollbackOf: true,
  createdAt: true,
} as const satisfies Prisma.StateVersionSelect;
export type ListedStateVersion = Prisma.StateVersionGetPayload<{ select: typeof VERSION_LISTING }>;

export const md5Hex = (text: string | Uint8Array) => createHash('md5').update(text).digest('hex');

/** Writes `text` (a state document, already checked by the caller) as the stack's next version. */
export async function writeStateVersion(
  tx: Tx,
  stack: { id: string; tenantId: string },
  text: string,
  writer: StateWriter,
  rollbackOf: number | null = null,
): Promise<ListedStateVersion> {
  const state = parseStateDocument(text);
  const { nextStateVersion } = await tx.stack.update({
    where: { id: stack.id },
    data: { nextStateVersion: { increment: 1 } },
    select: { nextStateVersion: true },
  });
  const number = nextStateVersion - 1;
  const encrypted = seal(stateAddress(stack.tenantId, stack.id, number), text);
  return tx.stateVersion.create({
    data: {
      stackId: stack.id,
      number,
      serial: state.serial,
      lineage: state.lineage,
      md5: md5Hex(text),
      ...encrypted,
      ...('runId' in writer ? { runId: writer.runId } : { createdById: writer.userId, createdByApiKey: writer.apiKeyId }),
      rollbackOf,
    },
    select: VERSION_LISTING,
  });
}

export async function latestVersionNumber(prisma: PrismaClient | Tx, stackId: string): Promise<number> {
  const latest = await prisma.stateVersion.findFirst({ where: { stackId }, orderBy: { number: 'desc' }, select: { number: true } });
  return latest?.number ?? 0;
}

/** The state document of one version (decrypted), or null when the stack has no such version (0: the latest; none yet: null). */
export async function readStateText(prisma: PrismaClient | Tx, stack: { id: string; tenantId: string }, number = 0): Promise<string | null> {
  const row = await prisma.stateVersion.findFirst({
    where: { stackId: stack.id, ...(number > 0 ? { number } : {}) },
    orderBy: { number: 'desc' },
  });
  if (!row) return null;
  return unseal(stateAddress(stack.tenantId, stack.id, row.number), row);
}
