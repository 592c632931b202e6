/**
 * Pipelines' webhook secrets (docs/webhooks.md): checking a forge's HMAC needs the secret itself, so it is
 * stored like a tenant secret, AES-256-GCM with the same keys (./cipher.ts), under the same lock as tenant
 * secrets and re-encrypted by the same rotation (./rotate.ts). The value leaves this module only in the
 * answer that creates it (lib/api/services/webhooks.ts) and to check a delivery's signature.
 */
import { randomBytes } from 'node:crypto';
import type { Prisma, PrismaClient } from '../db/client';
import { decryptValue, encryptValue, type SecretAddress } from './cipher';
import type { KeySource } from './keys';
import { withSecretKeys } from './store';

/**
 * What the ciphertext is bound to: the pipeline's tenant and a name no tenant secret can have (secret names
 * are environment variable names), so a webhook ciphertext copied onto a secret row does not decrypt.
 */
export function webhookSecretAddress(tenantId: string, pipelineId: string): SecretAddress {
  return { tenantId, name: `webhook:${pipelineId}` };
}

/** A new random secret: 32 bytes, base64url (43 characters, fits every forge's secret field). */
export function generateWebhookSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Stores `secret` as the pipeline's webhook secret (replacing any); `work` runs in the same transaction. */
export async function writeWebhookSecret<T>(
  prisma: PrismaClient,
  pipeline: { id: string; tenantId: string },
  secret: string,
  work: (tx: Prisma.TransactionClient, replaced: boolean) => Promise<T>,
  source: KeySource = {},
): Promise<T> {
  return withSecretKeys(prisma, source, async (tx, keyring) => {
    const encrypted = encryptValue(keyring.current, secret, webhookSecretAddress(pipeline.tenantId, pipeline.id));
    const existing = await tx.pipelineWebhook.findUnique({ where: { pipelineId: pipeline.id }, select: { id: true } });
    await tx.pipelineWebhook.upsert({ where: { pipelineId: pipeline.id }, create: { pipelineId: pipeline.id, ...encrypted }, update: encrypted });
    return work(tx, existing !== null);
  });
}

/**
 * The pipeline's webhook secret with what a delivery needs of the pipeline, or null when the pipeline does
 * not exist, is archived, or has no webhook secret (the same answer for all three).
 */
export async function readWebhookSecret(prisma: PrismaClient, pipelineId: string, source: KeySource = {}) {
  return withSecretKeys(prisma, source, async (tx, keyring) => {
    const row = await tx.pipelineWebhook.findUnique({
      where: { pipelineId },
      include: { pipeline: { include: { tenant: { select: { organizationId: true } } } } },
    });
    if (row === null || row.pipeline.archivedAt !== null) return null;
    const secret = decryptValue(keyring, row, webhookSecretAddress(row.pipeline.tenantId, pipelineId));
    return { secret, pipeline: row.pipeline };
  });
}
