/** State versions (list, show, rollback) and the API's force-unlock; what the API does, independent of HTTP. */
import type { Actor } from '../../auth/authorize';
import type { RequestOrigin } from '../../auth/request-origin';
import { stateAddress, unseal } from '../../stacks/sealed';
import { maskedOutputs, parseStateDocument, resourceAddresses } from '../../stacks/state/document';
import { forceUnlock, type LockInfo } from '../../stacks/state/locks';
import { VERSION_LISTING, writeStateVersion, type ListedStateVersion } from '../../stacks/state/versions';
import { requireTenantAction } from '../access';
import { recordAudit } from '../audit';
import type { PrismaClient } from '../db';
import { ApiError, notFound } from '../errors';
import { keysetArgs, toPage, type PageRequest } from '../pagination';
import { loadStackFor } from './stacks';

type VersionRow = ListedStateVersion & { createdBy: { id: string; email: string } | null };

const LISTING = { ...VERSION_LISTING, createdBy: { select: { id: true, email: true } } } as const;

function versionSummaryDto(v: VersionRow) {
  return {
    id: v.id,
    stackId: v.stackId,
    number: v.number,
    serial: v.serial,
    lineage: v.lineage,
    md5: v.md5,
    runId: v.runId,
    createdBy: v.createdBy,
    rollbackOf: v.rollbackOf,
    createdAt: v.createdAt.toISOString(),
  };
}

export async function listStateVersions(prisma: PrismaClient, actor: Actor, stackId: string, page: PageRequest) {
  await loadStackFor(prisma, actor, stackId, 'stack.read');
  const keyset = keysetArgs(page);
  const rows = await prisma.stateVersion.findMany({ where: { AND: [{ stackId }, keyset.where] }, orderBy: keyset.orderBy, take: keyset.take, select: LISTING });
  return toPage(rows, page, versionSummaryDto);
}

async function loadVersionFor(prisma: PrismaClient, actor: Actor, versionId: string, action: 'stack.read' | 'stack.apply') {
  const version = await prisma.stateVersion.findUnique({
    where: { id: versionId },
    include: {
      createdBy: { select: { id: true, email: true } },
      stack: { select: { id: true, tenantId: true, tenant: { select: { organizationId: true } } } },
    },
  });
  if (!version) throw notFound('state version');
  requireTenantAction(actor, action, { id: version.stack.tenantId, organizationId: version.stack.tenant.organizationId }, 'state version');
  const text = unseal(stateAddress(version.stack.tenantId, version.stackId, version.number), version);
  return { version, text };
}

export async function getStateVersion(prisma: PrismaClient, actor: Actor, versionId: string) {
  const { version, text } = await loadVersionFor(prisma, actor, versionId, 'stack.read');
  const state = parseStateDocument(text);
  return {
    ...versionSummaryDto(version),
    terraformVersion: state.terraform_version ?? null,
    outputs: maskedOutputs(state),
    resources: resourceAddresses(state),
  };
}

/** Writes the version's state again as the newest, with a serial above the current one (Terraform only moves forward). */
export async function rollbackStateVersion(prisma: PrismaClient, actor: Actor, versionId: string, origin: RequestOrigin | null) {
  const { version, text } = await loadVersionFor(prisma, actor, versionId, 'stack.apply');
  const written = await prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT 1 FROM stacks WHERE id = ${version.stackId} FOR UPDATE`;
    if (await tx.stateLock.count({ where: { stackId: version.stackId } })) {
      throw new ApiError('state_locked', 409, 'the state is locked (a run or a terraform is using it): wait for it, or force-unlock it first');
    }
    const latest = await tx.stateVersion.findFirstOrThrow({ where: { stackId: version.stackId }, orderBy: { number: 'desc' }, select: { serial: true } });
    const state = { ...(JSON.parse(text) as Record<string, unknown>), serial: latest.serial + 1 };
    const created = await writeStateVersion(
      tx,
      version.stack,
      JSON.stringify(state, null, 2),
      { userId: actor.userId, apiKeyId: actor.apiKeyId },
      version.number,
    );
    await recordAudit(tx, actor, {
      action: 'stack.state.rollback',
      tenantId: version.stack.tenantId,
      targetType: 'stack',
      targetId: version.stackId,
      details: { to: version.number, version: created.number },
      origin,
    });
    return created;
  });
  return versionSummaryDto({
    ...written,
    createdBy: actor.userId ? await prisma.user.findUnique({ where: { id: actor.userId }, select: { id: true, email: true } }) : null,
  });
}

export async function forceUnlockStack(prisma: PrismaClient, actor: Actor, stackId: string, origin: RequestOrigin | null) {
  const stack = await loadStackFor(prisma, actor, stackId, 'stack.apply');
  const removed = await prisma.$transaction(async (tx) => {
    const held = await forceUnlock(tx, stackId);
    if (held) {
      await recordAudit(tx, actor, {
        action: 'stack.force_unlock',
        tenantId: stack.tenantId,
        targetType: 'stack',
        targetId: stackId,
        details: { lockId: held.lockId, runId: held.runId, userId: held.userId, who: (held.info as LockInfo).Who ?? null },
        origin,
      });
    }
    return held;
  });
  return { unlocked: removed ? { id: removed.lockId, who: (removed.info as LockInfo).Who ?? null } : null };
}
