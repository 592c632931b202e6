/**
 * First start of a fresh install: `BUILDIT_BOOTSTRAP_TOKEN=<value>` creates organization `default`, tenant
 * `default`, an admin user who owns the organization, and an admin API token with exactly that value, so
 * the CLI and automation work before anyone logs in.
 *
 * Idempotent and safe when several processes start at once: everything happens in one transaction that
 * first takes a transaction-scoped advisory lock, so the second process waits, then finds the token and
 * does nothing.
 */
import { bootstrapTokenFromEnv, type Env } from '../config/env';
import type { PrismaClient } from '../generated/prisma/client';
import { createLogger, type Logger } from '../log';
import { createApiKey } from './api-keys';
import { hashesEqual, hashToken, tokenLookupPrefix, tokenShapeProblem } from './tokens';

export const BOOTSTRAP_ORG_SLUG = 'default';
export const BOOTSTRAP_TENANT_SLUG = 'default';
export const BOOTSTRAP_ADMIN_EMAIL = 'admin@buildit.local';
export const BOOTSTRAP_TOKEN_NAME = 'bootstrap (BUILDIT_BOOTSTRAP_TOKEN)';
/** Arbitrary constant key of the advisory lock that serializes bootstraps ("bkboot" in ASCII). */
const BOOTSTRAP_LOCK_KEY = 0x626b626f6f74;

export type BootstrapResult =
  | { status: 'skipped' }
  | { status: 'exists'; apiKeyId: string }
  | { status: 'created'; apiKeyId: string; organizationId: string; tenantId: string; userId: string };

export async function bootstrapFromEnv(prisma: PrismaClient, env: Env = process.env, log: Logger = createLogger('bootstrap')): Promise<BootstrapResult> {
  const token = bootstrapTokenFromEnv(env);
  if (!token) return { status: 'skipped' };
  const problem = tokenShapeProblem(token);
  if (problem !== null) {
    throw new Error(
      `BUILDIT_BOOTSTRAP_TOKEN is not usable: ${problem}. Generate one with: openssl rand -base64 32 | tr '+/' '-_' | tr -d '=' | sed 's/^/bk_/'`,
    );
  }
  const prefix = tokenLookupPrefix(token);

  const result = await prisma.$transaction(async (tx): Promise<BootstrapResult> => {
    await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK_KEY})`);
    const existing = await tx.apiKey.findUnique({ where: { prefix }, select: { id: true, hash: true, revokedAt: true } });
    if (existing) {
      if (!hashesEqual(existing.hash, hashToken(token))) {
        throw new Error(`BUILDIT_BOOTSTRAP_TOKEN: another API token starts with the same ${prefix.length} characters; choose a different value`);
      }
      if (existing.revokedAt !== null) log.warn({ apiKeyId: existing.id }, 'BUILDIT_BOOTSTRAP_TOKEN names a revoked token; it stays revoked');
      return { status: 'exists', apiKeyId: existing.id };
    }

    const organization = await tx.organization.upsert({
      where: { slug: BOOTSTRAP_ORG_SLUG },
      create: { slug: BOOTSTRAP_ORG_SLUG, name: 'Default organization' },
      update: {},
    });
    const tenant = await tx.tenant.upsert({
      where: { organizationId_slug: { organizationId: organization.id, slug: BOOTSTRAP_TENANT_SLUG } },
      create: { organizationId: organization.id, slug: BOOTSTRAP_TENANT_SLUG, name: 'Default' },
      update: {},
    });
    const user = await tx.user.upsert({
      where: { email: BOOTSTRAP_ADMIN_EMAIL },
      create: { email: BOOTSTRAP_ADMIN_EMAIL, name: 'Administrator' },
      update: {},
    });
    await tx.orgMembership.upsert({
      where: { organizationId_userId: { organizationId: organization.id, userId: user.id } },
      create: { organizationId: organization.id, userId: user.id, role: 'owner' },
      update: { role: 'owner' },
    });
    const { apiKey } = await createApiKey(tx, {
      organizationId: organization.id,
      userId: user.id,
      name: BOOTSTRAP_TOKEN_NAME,
      scopes: ['admin'],
      token,
    });
    await tx.auditLog.create({
      data: {
        organizationId: organization.id,
        actorUserId: null,
        action: 'bootstrap',
        targetType: 'token',
        targetId: apiKey.id,
        details: { organization: organization.slug, tenant: tenant.slug, user: user.email },
      },
    });
    return { status: 'created', apiKeyId: apiKey.id, organizationId: organization.id, tenantId: tenant.id, userId: user.id };
  });

  if (result.status === 'created') {
    log.info(
      { apiKeyId: result.apiKeyId },
      `bootstrap: created organization "${BOOTSTRAP_ORG_SLUG}", tenant "${BOOTSTRAP_TENANT_SLUG}", user ${BOOTSTRAP_ADMIN_EMAIL} and an admin API token`,
    );
  }
  return result;
}
