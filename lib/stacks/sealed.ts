/**
 * What a stack stores encrypted: state versions, plans, sensitive variables. The same AES-256-GCM as tenant
 * secrets (lib/secrets/cipher.ts), with an address per value (`stack-state:<stackId>:<number>`, ...) bound in,
 * so a ciphertext moved onto another row does not decrypt.
 */
import { decryptValue, encryptValue, type EncryptedValue } from '../secrets/cipher';
import { loadKeyring, type Keyring } from '../secrets/keys';

export type { EncryptedValue };

export const stateAddress = (tenantId: string, stackId: string, number: number) => ({ tenantId, name: `stack-state:${stackId}:${number}` });
export const planJsonAddress = (tenantId: string, runId: string) => ({ tenantId, name: `stack-plan-json:${runId}` });
export const planFileAddress = (tenantId: string, runId: string) => ({ tenantId, name: `stack-plan-file:${runId}` });
export const variableAddress = (tenantId: string, stackId: string, name: string) => ({ tenantId, name: `stack-variable:${stackId}:${name}` });

export function seal(address: { tenantId: string; name: string }, value: string, keyring: Keyring = loadKeyring()): EncryptedValue {
  return encryptValue(keyring.current, value, address);
}

export function unseal(address: { tenantId: string; name: string }, encrypted: EncryptedValue, keyring: Keyring = loadKeyring()): string {
  return decryptValue(keyring, encrypted, address);
}

/** A run's sealed plan, its JSON and its file (sealed under one key), as stack_runs columns. */
export function sealedPlanColumns(json: EncryptedValue, file: EncryptedValue) {
  return {
    planJsonCiphertext: json.ciphertext,
    planIv: json.iv,
    planAuthTag: json.authTag,
    planFileCiphertext: file.ciphertext,
    planFileIv: file.iv,
    planFileAuthTag: file.authTag,
    planKeyId: json.keyId,
  };
}
