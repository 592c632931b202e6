/**
 * Terraform's HTTP state backend for one stack (`/api/v1/stacks/{stackId}/state`), the protocol the real
 * CLI speaks (docs/stacks.md):
 * - GET: the current state, 404 when there is none yet;
 * - POST `?ID=<lock id>`: a new state version, only from the holder of the lock with that ID (409 otherwise),
 *   its Content-MD5 checked;
 * - LOCK (or POST .../state/lock): 200, or 423 with the holder's lock info;
 * - UNLOCK (or POST .../state/unlock): with the holder's lock info; an empty body is a force-unlock, which
 *   only a person allowed stack.apply may do, audited.
 * Next's route handlers take no LOCK/UNLOCK methods: the web server hands them to the `lock`/`unlock` routes
 * (./methods.ts), which are also what BuildIt's own runs are configured with.
 */
import { createHash } from 'node:crypto';
import { requireTenantAction } from '../../api/access';
import { recordAudit } from '../../api/audit';
import { ApiError, errorResponse, notFound, toErrorResponse } from '../../api/errors';
import { readRawBody } from '../../api/with-api';
import type { Action, Actor } from '../../auth/authorize';
import { AuthError } from '../../auth/errors';
import { requestOrigin, type RequestOrigin } from '../../auth/request-origin';
import type { PrismaClient } from '../../generated/prisma/client';
import { authenticateBackendCaller, type BackendCaller, type BackendStack } from './credentials';
import { StateDocumentError } from './document';
import { acquireLock, forceUnlock, LockInfo, releaseLock, type LockHolder } from './locks';
import { readStateText, writeStateVersion } from './versions';

/** Largest state accepted (a state of thousands of resources is a few MiB). */
export const MAX_STATE_BYTES = 64 * 1024 * 1024;

const BASIC_CHALLENGE = { 'WWW-Authenticate': 'Basic realm="buildit state"' };

interface BackendRequest {
  prisma: PrismaClient;
  request: Request;
  stack: BackendStack;
  caller: BackendCaller;
  origin: RequestOrigin;
}

type BackendHandler = (context: BackendRequest) => Promise<Response>;

/** The action a person needs; a run's credential is limited by its run instead (credentials.ts). */
const PERSON_ACTION: Record<'read' | 'write', Action> = { read: 'stack.read', write: 'stack.apply' };

/** Authenticates, finds the stack (404 for one the caller may not see), authorizes, and maps errors. */
export function stateBackendHandler(access: 'read' | 'write', handler: BackendHandler) {
  return async (prisma: PrismaClient, request: Request, stackId: string): Promise<Response> => {
    const origin = requestOrigin(request);
    try {
      const caller = await authenticateBackendCaller(prisma, request, stackId, origin.ip);
      const stack = caller.kind === 'run' ? caller.stack : await personStack(prisma, caller.actor, stackId, PERSON_ACTION[access]);
      return await handler({ prisma, request, stack, caller, origin });
    } catch (error) {
      if (error instanceof AuthError) return errorResponse(401, error.code, error.message, null, BASIC_CHALLENGE);
      if (error instanceof StateDocumentError) return errorResponse(400, 'invalid_state', error.message);
      return toErrorResponse(error);
    }
  };
}

/** The stack for a person: 404 when they may not see it, 403 when they may not do `action`. */
async function personStack(prisma: PrismaClient, actor: Actor, stackId: string, action: Action): Promise<BackendStack> {
  const stack = await prisma.stack.findUnique({ where: { id: stackId }, select: { id: true, tenantId: true, tenant: { select: { organizationId: true } } } });
  if (!stack) throw notFound('stack');
  requireTenantAction(actor, action, { id: stack.tenantId, organizationId: stack.tenant.organizationId }, 'stack');
  return { id: stack.id, tenantId: stack.tenantId, organizationId: stack.tenant.organizationId };
}

function holderOf(caller: BackendCaller): LockHolder {
  return caller.kind === 'run' ? { runId: caller.runId } : { userId: caller.actor.userId, apiKeyId: caller.actor.apiKeyId };
}

async function readLockInfo(request: Request): Promise<LockInfo | null> {
  const text = new TextDecoder().decode(await readRawBody(request, 64 * 1024));
  if (text.trim() === '') return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ApiError('invalid_json', 400, 'the lock info is not valid JSON');
  }
  const parsed = LockInfo.safeParse(raw);
  if (!parsed.success) throw new ApiError('invalid_lock_info', 400, 'the lock info needs an `ID` (what terraform sends)');
  return parsed.data;
}

const lockResponse = (status: number, info: unknown) => Response.json(info, { status });

export const getState = stateBackendHandler('read', async ({ prisma, stack }) => {
  const text = await readStateText(prisma, stack);
  if (text === null) return errorResponse(404, 'no_state', 'the stack has no state yet');
  return new Response(text, { status: 200, headers: { 'content-type': 'application/json', 'content-md5': createHash('md5').update(text).digest('base64') } });
});

export const postState = stateBackendHandler('write', async ({ prisma, request, stack, caller, origin }) => {
  if (caller.kind === 'run' && caller.status !== 'applying') {
    throw new ApiError('forbidden', 403, `a run writes the state only while it applies (this one is ${caller.status})`);
  }
  const lockId = new URL(request.url).searchParams.get('ID');
  const body = await readRawBody(request, MAX_STATE_BYTES);
  const declaredMd5 = request.headers.get('content-md5');
  if (declaredMd5 === null) throw new ApiError('content_md5_required', 400, 'a state write needs a Content-MD5 header (terraform sends one)');
  if (createHash('md5').update(body).digest('base64') !== declaredMd5.trim()) {
    throw new ApiError('content_md5_mismatch', 400, 'the state does not match its Content-MD5: it was damaged on the way; nothing was written');
  }
  const text = new TextDecoder().decode(body);
  const version = await prisma.$transaction(async (tx) => {
    // Writers of one stack go one at a time from here: the lock is checked and the version written under it.
    await tx.$executeRaw`SELECT 1 FROM stacks WHERE id = ${stack.id} FOR UPDATE`;
    const lock = await tx.stateLock.findUnique({ where: { stackId: stack.id } });
    if (lockId === null || lockId === '') {
      throw new ApiError('lock_required', 409, 'a state write must name the lock it holds (`?ID=`): lock the state first (terraform does unless -lock=false)');
    }
    if (!lock || lock.lockId !== lockId) {
      throw new ApiError(
        'lock_mismatch',
        409,
        lock ? `the state is locked by another lock (${lock.lockId}): nothing was written` : 'the state is not locked: lock it first',
      );
    }
    const holder = holderOf(caller);
    const holds = 'runId' in holder ? lock.runId === holder.runId : lock.runId === null && lock.userId === holder.userId && lock.apiKeyId === holder.apiKeyId;
    if (!holds) throw new ApiError('lock_mismatch', 409, 'the lock with this ID is held by someone else: nothing was written');
    const written = await writeStateVersion(tx, stack, text, holder);
    if (caller.kind === 'person') {
      await recordAudit(tx, caller.actor, {
        action: 'stack.state.write',
        tenantId: stack.tenantId,
        targetType: 'stack',
        targetId: stack.id,
        details: { version: written.number, serial: written.serial },
        origin,
      });
    }
    return written;
  });
  return Response.json({ version: version.number, serial: version.serial }, { status: 200 });
});

export const lockState = stateBackendHandler('write', async ({ prisma, request, stack, caller }) => {
  const info = await readLockInfo(request);
  if (info === null) throw new ApiError('invalid_lock_info', 400, 'LOCK needs the lock info JSON terraform sends');
  const attempt = await acquireLock(prisma, stack.id, info, holderOf(caller));
  return attempt.acquired ? lockResponse(200, info) : lockResponse(423, attempt.held);
});

export const unlockState = stateBackendHandler('write', async ({ prisma, request, stack, caller, origin }) => {
  const info = await readLockInfo(request);
  if (info !== null) {
    const result = await releaseLock(prisma, stack.id, info.ID);
    if (result.released || result.held === null) return Response.json({ unlocked: result.released }, { status: 200 });
    return lockResponse(423, result.held);
  }
  // An empty body: `terraform force-unlock`.
  if (caller.kind === 'run') throw new ApiError('forbidden', 403, 'a run cannot force-unlock the state');
  const removed = await prisma.$transaction(async (tx) => {
    const held = await forceUnlock(tx, stack.id);
    if (held) {
      await recordAudit(tx, caller.actor, {
        action: 'stack.force_unlock',
        tenantId: stack.tenantId,
        targetType: 'stack',
        targetId: stack.id,
        details: { lockId: held.lockId, runId: held.runId, userId: held.userId, who: (held.info as LockInfo).Who ?? null },
        origin,
      });
    }
    return held;
  });
  return Response.json({ unlocked: removed !== null }, { status: 200 });
});
