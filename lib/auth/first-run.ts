/**
 * The first organization and its owner on a fresh install: from the setup page while nobody can sign in to
 * the web yet (`createFirstOwner`), or unattended at start from BUILDIT_ADMIN_EMAIL and
 * BUILDIT_ADMIN_PASSWORD (`ownerFromEnv`). Each runs in one transaction that first takes the same advisory
 * lock, so of two concurrent setups exactly one creates an owner and the other sees it done.
 */
import { slugify } from '../slug';
import { adminFromEnv, type Env } from '../config/env';
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import { createLogger, type Logger } from '../log';
import { recordAudit } from './audit';
import { BOOTSTRAP_ORG_SLUG, BOOTSTRAP_TENANT_SLUG } from './bootstrap';
import { normalizeEmail } from './invitations';
import { hashPassword, passwordProblem } from './passwords';
import type { RequestOrigin } from './request-origin';

type Db = PrismaClient | Prisma.TransactionClient;

/** Arbitrary constant key of the advisory lock that serializes first-run setups ("bksetup" in ASCII). */
const SETUP_LOCK_KEY = 0x626b7365747570;
export const MAX_ORGANIZATION_NAME_LENGTH = 100;
const MAX_EMAIL_LENGTH = 254;
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+$/;

export type SetupErrorCode = 'setup_done' | 'invalid_input';

export class SetupError extends Error {
  constructor(
    readonly code: SetupErrorCode,
    /** Shown to the user as it is; never contains the password. */
    message: string,
  ) {
    super(message);
    this.name = 'SetupError';
  }
}

export interface FirstOwner {
  organizationId: string;
  tenantId: string;
  userId: string;
}

/** True while nobody can sign in to the web: no user has a password and no session was ever opened. */
export async function setupNeeded(prisma: Db): Promise<boolean> {
  const withPassword = await prisma.user.findFirst({ where: { passwordHash: { not: null } }, select: { id: true } });
  if (withPassword) return false;
  return (await prisma.session.findFirst({ select: { id: true } })) === null;
}

function emailProblem(email: string): string | null {
  if (email.length > MAX_EMAIL_LENGTH || !EMAIL_SHAPE.test(email)) return 'enter an email address such as you@example.com';
  return null;
}

/** `slug`, or `slug-2`, `slug-3`, ... when taken (the bootstrap's `default` organization may exist). */
async function freeSlug(tx: Prisma.TransactionClient, slug: string): Promise<string> {
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? slug : `${slug}-${n}`;
    if (!(await tx.organization.findUnique({ where: { slug: candidate }, select: { id: true } }))) return candidate;
  }
}

const lockSetup = (tx: Prisma.TransactionClient) => tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${SETUP_LOCK_KEY})`);

/**
 * Makes the user with this email (an existing row is reused, e.g. the bootstrap's admin) owner of the
 * organization with this password, gives the organization its `default` tenant, and records `auth.setup`.
 */
async function makeOwner(
  tx: Prisma.TransactionClient,
  organization: { id: string; slug: string; name: string },
  owner: { email: string; password: string; actingUser: boolean; via: string },
  origin: RequestOrigin | null,
): Promise<FirstOwner> {
  const tenant = await tx.tenant.upsert({
    where: { organizationId_slug: { organizationId: organization.id, slug: BOOTSTRAP_TENANT_SLUG } },
    create: { organizationId: organization.id, slug: BOOTSTRAP_TENANT_SLUG, name: 'Default' },
    update: {},
  });
  const passwordHash = await hashPassword(owner.password);
  const user = await tx.user.upsert({ where: { email: owner.email }, create: { email: owner.email, passwordHash }, update: { passwordHash } });
  await tx.orgMembership.upsert({
    where: { organizationId_userId: { organizationId: organization.id, userId: user.id } },
    create: { organizationId: organization.id, userId: user.id, role: 'owner' },
    update: { role: 'owner' },
  });
  await recordAudit(tx, null, {
    action: 'auth.setup',
    userId: owner.actingUser ? user.id : null,
    organizationId: organization.id,
    targetType: 'organization',
    targetId: organization.id,
    details: { organization: organization.slug, name: organization.name, tenant: tenant.slug, owner: owner.email, via: owner.via },
    origin,
  });
  return { organizationId: organization.id, tenantId: tenant.id, userId: user.id };
}

/**
 * The setup page: creates the organization (or takes the bootstrap's `default` one) and its owner, once.
 * Refuses with a `SetupError` saying what to do.
 */
export async function createFirstOwner(
  prisma: PrismaClient,
  input: { organizationName: string; email: string; password: string },
  origin: RequestOrigin | null,
): Promise<FirstOwner> {
  const name = input.organizationName.trim();
  const email = normalizeEmail(input.email);
  return prisma.$transaction(
    async (tx) => {
      await lockSetup(tx);
      if (!(await setupNeeded(tx))) throw new SetupError('setup_done', 'BuildIt is already set up: sign in instead');
      const problem =
        name.length === 0 || name.length > MAX_ORGANIZATION_NAME_LENGTH
          ? `the organization name has 1 to ${MAX_ORGANIZATION_NAME_LENGTH} characters`
          : (emailProblem(email) ?? passwordProblem(input.password));
      if (problem !== null) throw new SetupError('invalid_input', problem);
      // What BUILDIT_BOOTSTRAP_TOKEN made before anyone could sign in becomes this owner's, under the chosen name.
      const bootstrapped = await tx.organization.findUnique({ where: { slug: BOOTSTRAP_ORG_SLUG }, select: { id: true } });
      const organization = bootstrapped
        ? await tx.organization.update({ where: { id: bootstrapped.id }, data: { name } })
        : await tx.organization.create({ data: { slug: await freeSlug(tx, slugify(name, 'organization')), name } });
      return makeOwner(tx, organization, { email, password: input.password, actingUser: true, via: 'setup page' }, origin);
    },
    // A concurrent setup waits for this one's password hash (about 100 ms).
    { maxWait: 5_000, timeout: 15_000 },
  );
}

export type OwnerFromEnvResult = { status: 'skipped' } | { status: 'exists'; userId: string } | ({ status: 'created' } & FirstOwner);

/**
 * BUILDIT_ADMIN_EMAIL + BUILDIT_ADMIN_PASSWORD, at every start. Idempotent: once that user has a password it
 * is never changed here (the variable only sets the first one). Otherwise the user becomes owner of the
 * `default` organization, the bootstrap's when it made one, with that password.
 */
export async function ownerFromEnv(prisma: PrismaClient, env: Env = process.env, log: Logger = createLogger('first-run')): Promise<OwnerFromEnvResult> {
  const admin = adminFromEnv(env);
  if (!admin) return { status: 'skipped' };
  const email = normalizeEmail(admin.email);
  const result = await prisma.$transaction(
    async (tx): Promise<OwnerFromEnvResult> => {
      await lockSetup(tx);
      const existing = await tx.user.findUnique({ where: { email }, select: { id: true, passwordHash: true } });
      if (existing?.passwordHash) return { status: 'exists', userId: existing.id };
      const problem = emailProblem(email) ?? passwordProblem(admin.password);
      if (problem !== null) throw new Error(`BUILDIT_ADMIN_EMAIL / BUILDIT_ADMIN_PASSWORD: ${problem}`);
      const organization = await tx.organization.upsert({
        where: { slug: BOOTSTRAP_ORG_SLUG },
        create: { slug: BOOTSTRAP_ORG_SLUG, name: 'Default organization' },
        update: {},
      });
      return {
        status: 'created',
        ...(await makeOwner(tx, organization, { email, password: admin.password, actingUser: false, via: 'BUILDIT_ADMIN_EMAIL' }, null)),
      };
    },
    { maxWait: 5_000, timeout: 15_000 },
  );
  if (result.status === 'created') log.info({ userId: result.userId }, `BUILDIT_ADMIN_EMAIL: ${email} is the owner of organization "${BOOTSTRAP_ORG_SLUG}"`);
  else if (result.status === 'exists') log.info(`BUILDIT_ADMIN_EMAIL: ${email} already has a password; BUILDIT_ADMIN_PASSWORD only sets the first one`);
  return result;
}
