/**
 * Key rotation for what stacks store encrypted (lib/secrets/rotate.ts calls this inside its exclusive
 * transaction): state versions, sensitive variables and saved plans move to the current key.
 */
import type { Prisma } from '../generated/prisma/client';
import { decryptValue, encryptValue, type EncryptedValue } from '../secrets/cipher';
import type { Keyring } from '../secrets/keys';
import { planFileAddress, planJsonAddress, sealedPlanColumns, stateAddress, variableAddress } from './sealed';

type Address = { tenantId: string; name: string };

const rekey = (keyring: Keyring, value: EncryptedValue, address: Address) => encryptValue(keyring.current, decryptValue(keyring, value, address), address);

/** Re-encrypts every stack value not under the current key; returns how many values it re-encrypted. */
export async function reencryptStackValues(tx: Prisma.TransactionClient, keyring: Keyring): Promise<number> {
  let count = 0;
  const notCurrent = { not: keyring.current.id };
  const versions = await tx.stateVersion.findMany({ where: { keyId: notCurrent }, include: { stack: { select: { tenantId: true } } } });
  for (const row of versions) {
    await tx.stateVersion.update({ where: { id: row.id }, data: rekey(keyring, row, stateAddress(row.stack.tenantId, row.stackId, row.number)) });
    count++;
  }
  const variables = await tx.stackVariable.findMany({ where: { keyId: notCurrent }, include: { stack: { select: { tenantId: true } } } });
  for (const row of variables) {
    if (!row.ciphertext || !row.iv || !row.authTag || !row.keyId) continue;
    const sealed = { ciphertext: row.ciphertext, iv: row.iv, authTag: row.authTag, keyId: row.keyId };
    await tx.stackVariable.update({ where: { id: row.id }, data: rekey(keyring, sealed, variableAddress(row.stack.tenantId, row.stackId, row.name)) });
    count++;
  }
  const runs = await tx.stackRun.findMany({ where: { planKeyId: notCurrent }, include: { stack: { select: { tenantId: true } } } });
  for (const run of runs) {
    if (!run.planJsonCiphertext || !run.planIv || !run.planAuthTag || !run.planFileCiphertext || !run.planFileIv || !run.planFileAuthTag || !run.planKeyId)
      continue;
    const json = rekey(
      keyring,
      { ciphertext: run.planJsonCiphertext, iv: run.planIv, authTag: run.planAuthTag, keyId: run.planKeyId },
      planJsonAddress(run.stack.tenantId, run.id),
    );
    const file = rekey(
      keyring,
      { ciphertext: run.planFileCiphertext, iv: run.planFileIv, authTag: run.planFileAuthTag, keyId: run.planKeyId },
      planFileAddress(run.stack.tenantId, run.id),
    );
    await tx.stackRun.update({ where: { id: run.id }, data: sealedPlanColumns(json, file) });
    count += 2;
  }
  return count;
}
