/** Stacks, their variables and environments: what the API does, independent of HTTP (docs/stacks.md). */
import type { z } from 'zod';
import type { Action, Actor } from '../../auth/authorize';
import type { RequestOrigin } from '../../auth/request-origin';
import type { Prisma } from '../../generated/prisma/client';
import { FINISHED_STATUSES } from '../../stacks/runs';
import { maskedOutputs, parseStateDocument } from '../../stacks/state/document';
import { latestVersionNumber, readStateText } from '../../stacks/state/versions';
import { writeVariable } from '../../stacks/variables';
import { slugify } from '../../slug';
import { requireTenantAction } from '../access';
import { recordAudit } from '../audit';
import type { PrismaClient, Tx } from '../db';
import { ApiError, notFound } from '../errors';
import { keysetArgs, toPage, type PageRequest } from '../pagination';
import { VariableName, type CreateStackBody, type SetStackVariableBody, type UpdateStackBody } from '../schemas/stacks';
import { conflictAs } from './conflict';
import { environmentDto, lockDto, STACK_INCLUDE, stackRunSummaryDto } from './stack-dto';
import { loadTenantFor } from './tenants';

type StackRow = Prisma.StackGetPayload<{ include: typeof STACK_INCLUDE }>;

/** The stack, after checking the actor sees its tenant (404) and may do `action` (403). */
export async function loadStackFor(prisma: PrismaClient | Tx, actor: Actor, stackId: string, action: Action): Promise<StackRow> {
  const stack = await prisma.stack.findUnique({ where: { id: stackId }, include: STACK_INCLUDE });
  if (!stack) throw notFound('stack');
  requireTenantAction(actor, action, { id: stack.tenantId, organizationId: stack.tenant.organizationId }, 'stack');
  return stack;
}

async function lockHolderEmail(prisma: PrismaClient | Tx, userId: string | null | undefined): Promise<string | null> {
  if (!userId) return null;
  return (await prisma.user.findUnique({ where: { id: userId }, select: { email: true } }))?.email ?? null;
}

async function stackSummaryDto(prisma: PrismaClient | Tx, stack: StackRow) {
  const lastRun = stack.runs[0];
  return {
    id: stack.id,
    tenantId: stack.tenantId,
    name: stack.name,
    slug: stack.slug,
    repository: stack.repository,
    ref: stack.ref,
    path: stack.path,
    credentialsSecret: stack.credentialsSecret,
    autoApply: stack.autoApply,
    terraformBinary: stack.terraformBinary,
    terraformVersion: stack.terraformVersion,
    driftSchedule: stack.driftSchedule,
    drifted: stack.drifted,
    driftCheckedAt: stack.driftCheckedAt?.toISOString() ?? null,
    environment: stack.environment,
    lock: lockDto(stack.lock, await lockHolderEmail(prisma, stack.lock?.userId)),
    lastRun: lastRun ? stackRunSummaryDto(lastRun) : null,
    createdAt: stack.createdAt.toISOString(),
    updatedAt: stack.updatedAt.toISOString(),
  };
}

async function stackDto(prisma: PrismaClient | Tx, stack: StackRow) {
  const text = await readStateText(prisma, stack);
  return {
    ...(await stackSummaryDto(prisma, stack)),
    outputs: text === null ? {} : maskedOutputs(parseStateDocument(text)),
    stateVersion: await latestVersionNumber(prisma, stack.id),
  };
}

export async function listStacks(prisma: PrismaClient, actor: Actor, tenantId: string, page: PageRequest) {
  await loadTenantFor(prisma, actor, tenantId, 'stack.read');
  const keyset = keysetArgs(page);
  const rows = await prisma.stack.findMany({
    where: { AND: [{ tenantId }, keyset.where] },
    orderBy: keyset.orderBy,
    take: keyset.take,
    include: STACK_INCLUDE,
  });
  const result = toPage(rows, page, (row) => row);
  return { items: await Promise.all(result.items.map((row) => stackSummaryDto(prisma, row))), nextCursor: result.nextCursor };
}

/** Links the stack to the environment `name` of its tenant (created when missing); null unlinks it. */
async function linkEnvironment(tx: Tx, stack: { id: string; tenantId: string }, name: string | null): Promise<void> {
  await tx.environment.updateMany({ where: { stackId: stack.id, ...(name !== null ? { name: { not: name } } : {}) }, data: { stackId: null } });
  if (name === null) return;
  const existing = await tx.environment.findUnique({ where: { tenantId_name: { tenantId: stack.tenantId, name } } });
  if (existing && existing.stackId !== null && existing.stackId !== stack.id) {
    throw new ApiError('environment_taken', 409, `environment "${name}" is managed by another stack: unlink it there first`);
  }
  if (existing) await tx.environment.update({ where: { id: existing.id }, data: { stackId: stack.id } });
  else await tx.environment.create({ data: { tenantId: stack.tenantId, name, stackId: stack.id } });
}

export async function createStack(prisma: PrismaClient, actor: Actor, tenantId: string, body: z.output<typeof CreateStackBody>, origin: RequestOrigin | null) {
  await loadTenantFor(prisma, actor, tenantId, 'stack.apply');
  const slug = body.slug ?? slugify(body.name, 'stack');
  const { environment, ...settings } = body;
  return conflictAs(`a stack with slug "${slug}" already exists in this tenant: choose another slug`, () =>
    prisma.$transaction(async (tx) => {
      const created = await tx.stack.create({ data: { ...settings, slug, tenantId } });
      await linkEnvironment(tx, created, environment);
      await recordAudit(tx, actor, {
        action: 'stack.create',
        tenantId,
        targetType: 'stack',
        targetId: created.id,
        details: { slug, name: body.name, environment },
        origin,
      });
      return stackDto(tx, await loadStackFor(tx, actor, created.id, 'stack.read'));
    }),
  );
}

export async function getStack(prisma: PrismaClient, actor: Actor, stackId: string) {
  return stackDto(prisma, await loadStackFor(prisma, actor, stackId, 'stack.read'));
}

export async function updateStack(prisma: PrismaClient, actor: Actor, stackId: string, body: z.output<typeof UpdateStackBody>, origin: RequestOrigin | null) {
  const stack = await loadStackFor(prisma, actor, stackId, 'stack.apply');
  const { environment, ...settings } = body;
  return conflictAs(`a stack with slug "${body.slug}" already exists in this tenant: choose another slug`, () =>
    prisma.$transaction(async (tx) => {
      await tx.stack.update({ where: { id: stackId }, data: settings });
      if (environment !== undefined) await linkEnvironment(tx, stack, environment);
      await recordAudit(tx, actor, {
        action: 'stack.update',
        tenantId: stack.tenantId,
        targetType: 'stack',
        targetId: stackId,
        details: { fields: Object.keys(body) },
        origin,
      });
      return stackDto(tx, await loadStackFor(tx, actor, stackId, 'stack.read'));
    }),
  );
}

export async function deleteStack(prisma: PrismaClient, actor: Actor, stackId: string, origin: RequestOrigin | null): Promise<void> {
  const stack = await loadStackFor(prisma, actor, stackId, 'stack.apply');
  await prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT 1 FROM stacks WHERE id = ${stackId} FOR UPDATE`;
    const active = await tx.stackRun.count({ where: { stackId, status: { notIn: [...FINISHED_STATUSES] } } });
    const locked = await tx.stateLock.count({ where: { stackId } });
    if (active > 0 || locked > 0)
      throw new ApiError('stack_busy', 409, 'the stack has an unfinished run or a locked state: cancel the run or unlock the state first');
    const readers = await tx.stackVariable.findMany({
      where: { sourceStackId: stackId, stackId: { not: stackId } },
      select: { stack: { select: { name: true } } },
    });
    if (readers.length > 0) {
      throw new ApiError(
        'stack_in_use',
        409,
        `stacks ${[...new Set(readers.map((r) => r.stack.name))].join(', ')} take this stack's outputs: change their variables first`,
      );
    }
    await tx.stackVariable.deleteMany({ where: { stackId } });
    await tx.stack.delete({ where: { id: stackId } });
    await recordAudit(tx, actor, {
      action: 'stack.delete',
      tenantId: stack.tenantId,
      targetType: 'stack',
      targetId: stackId,
      details: { slug: stack.slug },
      origin,
    });
  });
}

// --- variables -------------------------------------------------------------------------------

function variableDto(v: {
  name: string;
  hcl: boolean;
  sensitive: boolean;
  value: string | null;
  sourceStackId: string | null;
  sourceOutput: string | null;
  updatedAt: Date;
}) {
  return {
    name: v.name,
    hcl: v.hcl,
    sensitive: v.sensitive,
    value: v.sensitive ? null : v.value,
    source: v.sourceStackId !== null && v.sourceOutput !== null ? { stackId: v.sourceStackId, output: v.sourceOutput } : null,
    updatedAt: v.updatedAt.toISOString(),
  };
}

export async function listStackVariables(prisma: PrismaClient, actor: Actor, stackId: string) {
  await loadStackFor(prisma, actor, stackId, 'stack.read');
  const rows = await prisma.stackVariable.findMany({ where: { stackId }, orderBy: { name: 'asc' } });
  return { items: rows.map(variableDto) };
}

export async function setStackVariable(
  prisma: PrismaClient,
  actor: Actor,
  stackId: string,
  name: string,
  body: z.output<typeof SetStackVariableBody>,
  origin: RequestOrigin | null,
) {
  const stack = await loadStackFor(prisma, actor, stackId, 'stack.apply');
  const valid = VariableName.safeParse(name);
  if (!valid.success) throw new ApiError('validation_failed', 422, `invalid variable name "${name}": ${valid.error.issues[0]?.message ?? 'not a name'}`);
  if (body.source) {
    if (body.source.stackId === stackId) throw new ApiError('validation_failed', 422, 'a stack cannot take its own outputs as variables');
    const source = await prisma.stack.findUnique({ where: { id: body.source.stackId }, select: { tenantId: true } });
    // Another tenant's stack is as good as absent.
    if (!source || source.tenantId !== stack.tenantId)
      throw new ApiError('validation_failed', 422, `source stack ${body.source.stackId} is not a stack of this tenant`);
  }
  return prisma.$transaction(async (tx) => {
    const written = await writeVariable(
      tx,
      stack,
      name,
      body.source
        ? { kind: 'output', sourceStackId: body.source.stackId, sourceOutput: body.source.output }
        : { kind: 'value', value: body.value ?? '', hcl: body.hcl, sensitive: body.sensitive },
    );
    await recordAudit(tx, actor, {
      action: 'stack.variable.set',
      tenantId: stack.tenantId,
      targetType: 'stack',
      targetId: stackId,
      details: { name, sensitive: body.sensitive, created: written.created },
      origin,
    });
    return { variable: variableDto(written.variable), created: written.created };
  });
}

export async function deleteStackVariable(prisma: PrismaClient, actor: Actor, stackId: string, name: string, origin: RequestOrigin | null): Promise<void> {
  const stack = await loadStackFor(prisma, actor, stackId, 'stack.apply');
  await prisma.$transaction(async (tx) => {
    const { count } = await tx.stackVariable.deleteMany({ where: { stackId, name } });
    if (count === 0) throw notFound('variable');
    await recordAudit(tx, actor, {
      action: 'stack.variable.delete',
      tenantId: stack.tenantId,
      targetType: 'stack',
      targetId: stackId,
      details: { name },
      origin,
    });
  });
}

// --- environments ----------------------------------------------------------------------------

const ENVIRONMENT_INCLUDE = { stack: { select: { id: true, name: true } } } as const;

export async function listEnvironments(prisma: PrismaClient, actor: Actor, tenantId: string, page: PageRequest) {
  await loadTenantFor(prisma, actor, tenantId, 'stack.read');
  const keyset = keysetArgs(page);
  const rows = await prisma.environment.findMany({
    where: { AND: [{ tenantId }, keyset.where] },
    orderBy: keyset.orderBy,
    take: keyset.take,
    include: ENVIRONMENT_INCLUDE,
  });
  return toPage(rows, page, environmentDto);
}

export async function getEnvironment(prisma: PrismaClient, actor: Actor, environmentId: string) {
  const environment = await prisma.environment.findUnique({
    where: { id: environmentId },
    include: { ...ENVIRONMENT_INCLUDE, tenant: { select: { organizationId: true } } },
  });
  if (!environment) throw notFound('environment');
  requireTenantAction(actor, 'stack.read', { id: environment.tenantId, organizationId: environment.tenant.organizationId }, 'environment');
  return environmentDto(environment);
}
