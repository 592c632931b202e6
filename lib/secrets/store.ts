/**
 * Tenant secrets in the database: written and read only here, and only as AES-256-GCM ciphertext
 * (./cipher.ts). Nothing here returns a value except `readSecretValues`, which the worker calls to inject
 * the secrets a run declares.
 *
 * Key rotation (./rotate.ts) runs while BuildIt runs. It adds the new key to the keyring, re-encrypts every
 * row while it holds the advisory lock SECRET_KEYS_LOCK exclusively, and only then drops the old keys.
 * Writers and readers hold the same lock shared and load the keyring after taking it, so a keyring never
 * meets rows of another generation: a reader sees old rows with a keyring that has the old key, or new rows
 * with one that has the new key; a writer's row is either re-encrypted by the rotation or already new.
 */
import { queryRows, type Prisma, type PrismaClient, type Queryable } from '../db/client';
import { decryptValue, encryptValue } from './cipher';
import { loadKeyring, type Keyring, type KeySource } from './keys';

type Tx = Prisma.TransactionClient;

/** Arbitrary constant key of the advisory lock between key rotation and secret reads and writes ("bksecret" in ASCII). */
const SECRET_KEYS_LOCK = 0x626b736563726574n;

/** What a listing shows of a secret: never its ciphertext, which stays in the database. */
export const SECRET_LISTING = {
  id: true,
  tenantId: true,
  name: true,
  createdAt: true,
  updatedAt: true,
  createdBy: { select: { id: true, email: true } },
  updatedBy: { select: { id: true, email: true } },
} as const satisfies Prisma.SecretSelect;

export type ListedSecret = Prisma.SecretGetPayload<{ select: typeof SECRET_LISTING }>;

/**
 * Runs `work` in a transaction that holds SECRET_KEYS_LOCK (shared, or exclusive for a rotation), with the
 * keyring as it is once the lock is held.
 */
export async function withSecretKeys<T>(
  prisma: PrismaClient,
  source: KeySource,
  work: (tx: Tx, keyring: Keyring) => Promise<T>,
  mode: 'shared' | 'exclusive' = 'shared',
): Promise<T> {
  return prisma.$transaction(
    async (tx) => {
      await tx.$executeRawUnsafe(`SELECT ${mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock'}(${SECRET_KEYS_LOCK})`);
      return work(tx, loadKeyring(source));
    },
    // A rotation re-encrypts every secret in one transaction; Prisma's default 5 s would cut off a large one.
    mode === 'exclusive' ? { timeout: 10 * 60_000 } : undefined,
  );
}

export interface SecretInput {
  tenantId: string;
  name: string;
  value: string;
  /** The user setting it (null for a service token). */
  userId: string | null;
}

/** Creates or replaces a secret, encrypted with the current key; call inside `withSecretKeys`. */
export async function writeSecret(tx: Tx, keyring: Keyring, input: SecretInput): Promise<{ secret: ListedSecret; created: boolean }> {
  const { tenantId, name, userId } = input;
  const encrypted = encryptValue(keyring.current, input.value, { tenantId, name });
  const existing = await tx.secret.findUnique({ where: { tenantId_name: { tenantId, name } }, select: { id: true } });
  if (existing) {
    const secret = await tx.secret.update({ where: { id: existing.id }, data: { ...encrypted, updatedById: userId }, select: SECRET_LISTING });
    return { secret, created: false };
  }
  const secret = await tx.secret.create({ data: { tenantId, name, ...encrypted, createdById: userId, updatedById: userId }, select: SECRET_LISTING });
  return { secret, created: true };
}

/**
 * The values of the tenant's secrets among `names`, decrypted; names without a secret are left out (the
 * orchestrator fails the stages that declare them). No names: no keyring needed, nothing read.
 */
export async function readSecretValues(
  prisma: PrismaClient,
  tenantId: string,
  names: Iterable<string>,
  source: KeySource = {},
): Promise<Record<string, string>> {
  const wanted = [...new Set(names)];
  if (wanted.length === 0) return {};
  return withSecretKeys(prisma, source, async (tx, keyring) => {
    const rows = await tx.secret.findMany({ where: { tenantId, name: { in: wanted } } });
    return Object.fromEntries(rows.map((row) => [row.name, decryptValue(keyring, row, { tenantId, name: row.name })]));
  });
}

/** How many secrets (tenant secrets, pipelines' webhook secrets, stacks' states, variables and plans) each key id encrypts. */
export async function countSecretsByKey(db: Queryable): Promise<Map<string, number>> {
  const rows = await queryRows<{ key_id: string; secrets: number }>(
    db,
    'SELECT key_id, count(*)::int AS secrets FROM (SELECT key_id FROM secrets UNION ALL SELECT key_id FROM pipeline_webhooks' +
      // What stacks encrypt with the same keys (lib/stacks/rekey.ts).
      ' UNION ALL SELECT key_id FROM state_versions UNION ALL SELECT key_id FROM stack_variables WHERE key_id IS NOT NULL' +
      ' UNION ALL SELECT plan_key_id FROM stack_runs WHERE plan_key_id IS NOT NULL) AS encrypted GROUP BY key_id ORDER BY key_id',
  );
  return new Map(rows.map((row) => [row.key_id, row.secrets]));
}
