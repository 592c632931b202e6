/**
 * A stack's input variables. A sensitive value is encrypted (./sealed.ts) and never leaves the database
 * except into the environment of the stack's own terraform (TF_VAR_<name>); a variable may instead take
 * another stack's output, read from that stack's current state when the run starts.
 */
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import { seal, unseal, variableAddress } from './sealed';
import { parseStateDocument } from './state/document';
import { readStateText } from './state/versions';

type Tx = Prisma.TransactionClient;

export type VariableInput =
  { kind: 'value'; value: string; hcl: boolean; sensitive: boolean } | { kind: 'output'; sourceStackId: string; sourceOutput: string };

export async function writeVariable(tx: Tx, stack: { id: string; tenantId: string }, name: string, input: VariableInput) {
  const cleared = {
    value: null,
    ciphertext: null,
    iv: null,
    authTag: null,
    keyId: null,
    sourceStackId: null,
    sourceOutput: null,
    hcl: false,
    sensitive: false,
  };
  const data =
    input.kind === 'output'
      ? { ...cleared, sourceStackId: input.sourceStackId, sourceOutput: input.sourceOutput }
      : input.sensitive
        ? { ...cleared, ...seal(variableAddress(stack.tenantId, stack.id, name), input.value), hcl: input.hcl, sensitive: true }
        : { ...cleared, value: input.value, hcl: input.hcl };
  const existing = await tx.stackVariable.findUnique({ where: { stackId_name: { stackId: stack.id, name } }, select: { id: true } });
  const variable = existing
    ? await tx.stackVariable.update({ where: { id: existing.id }, data })
    : await tx.stackVariable.create({ data: { stackId: stack.id, name, ...data } });
  return { variable, created: !existing };
}

export class VariableSourceError extends Error {
  override name = 'VariableSourceError';
}

export interface RunVariables {
  /** TF_VAR_<name> for each variable. */
  env: Record<string, string>;
  /** Values to mask in the run's log: sensitive variables and sensitive upstream outputs. */
  sensitiveValues: string[];
}

/** The values a run of the stack gets: decrypted, upstream outputs read from their stacks' current state. */
export async function resolveRunVariables(prisma: PrismaClient, stack: { id: string; tenantId: string }): Promise<RunVariables> {
  const variables = await prisma.stackVariable.findMany({ where: { stackId: stack.id }, orderBy: { name: 'asc' } });
  const env: Record<string, string> = {};
  const sensitiveValues: string[] = [];
  for (const variable of variables) {
    let value: string;
    if (variable.sourceStackId !== null && variable.sourceOutput !== null) {
      const source = await prisma.stack.findUnique({ where: { id: variable.sourceStackId }, select: { id: true, tenantId: true, name: true } });
      const text = source ? await readStateText(prisma, source) : null;
      const output = text === null ? undefined : parseStateDocument(text).outputs[variable.sourceOutput];
      if (!source || output === undefined) {
        throw new VariableSourceError(
          `variable "${variable.name}" takes output "${variable.sourceOutput}" of stack ${source?.name ?? variable.sourceStackId}, which has no such output: apply that stack first`,
        );
      }
      value = typeof output.value === 'string' ? output.value : JSON.stringify(output.value);
      if (output.sensitive) sensitiveValues.push(value);
    } else if (variable.sensitive && variable.ciphertext && variable.iv && variable.authTag && variable.keyId) {
      value = unseal(variableAddress(stack.tenantId, stack.id, variable.name), {
        ciphertext: variable.ciphertext,
        iv: variable.iv,
        authTag: variable.authTag,
        keyId: variable.keyId,
      });
      sensitiveValues.push(value);
    } else {
      value = variable.value ?? '';
    }
    env[`TF_VAR_${variable.name}`] = value;
  }
  return { env, sensitiveValues };
}
