/**
 * AES-256-GCM for secret values: a random 96-bit IV per encryption, the 128-bit tag stored apart, and the
 * tenant and name bound in as additional data, so a ciphertext copied onto another tenant's or another
 * name's row does not decrypt (a database writer cannot move a secret where a pipeline it controls reads it).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { findKey, keyIds, SecretKeyError, type Keyring, type SecretKey } from './keys';

/** What a secret's row stores. */
export interface EncryptedValue {
  ciphertext: Uint8Array<ArrayBuffer>;
  iv: Uint8Array<ArrayBuffer>;
  authTag: Uint8Array<ArrayBuffer>;
  keyId: string;
}

/** Which secret a ciphertext belongs to. */
export interface SecretAddress {
  tenantId: string;
  name: string;
}

function additionalData({ tenantId, name }: SecretAddress): Buffer {
  return Buffer.from(`buildit secret\0${tenantId}\0${name}`, 'utf8');
}

/** A copy with its own ArrayBuffer: what Prisma's Bytes columns take. */
function bytes(buffer: Buffer): Uint8Array<ArrayBuffer> {
  return new Uint8Array(buffer);
}

export function encryptValue(key: SecretKey, value: string, address: SecretAddress): EncryptedValue {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.bytes, iv);
  cipher.setAAD(additionalData(address));
  const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return { ciphertext: bytes(ciphertext), iv: bytes(iv), authTag: bytes(cipher.getAuthTag()), keyId: key.id };
}

/** The value; a SecretKeyError naming the secret and the key when the keyring lacks that key or the data was altered. */
export function decryptValue(keyring: Keyring, encrypted: EncryptedValue, address: SecretAddress): string {
  const key = findKey(keyring, encrypted.keyId);
  if (!key) {
    throw new SecretKeyError(
      `secret "${address.name}" is encrypted with key ${encrypted.keyId}, which ${keyring.source} does not hold (it has ${keyIds(keyring).join(', ')}): ` +
        'set the key it was encrypted with (docs/secrets.md)',
    );
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.bytes, encrypted.iv);
    decipher.setAAD(additionalData(address));
    decipher.setAuthTag(encrypted.authTag);
    return Buffer.concat([decipher.update(encrypted.ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretKeyError(`secret "${address.name}" does not decrypt with key ${key.id}: its stored data was altered; set it again`);
  }
}
