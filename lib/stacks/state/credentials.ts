/**
 * Who talks to the state backend, by HTTP Basic auth (what Terraform's `http` backend sends):
 * - a BuildIt run: user `run-<stackRunId>`, password the credential minted for that run (only its SHA-256 is
 *   stored; it works while the run plans or applies, and only for its own stack);
 * - a person: any user name, an API token (`bk_...`) as the password, so `terraform` on a laptop uses
 *   BuildIt's state and locks with that person's rights.
 */
import { randomBytes } from 'node:crypto';
import { authenticateToken } from '../../auth/authenticate';
import type { Actor } from '../../auth/authorize';
import { AuthError } from '../../auth/errors';
import { hashesEqual, hashToken, TOKEN_PREFIX } from '../../auth/tokens';
import type { PrismaClient } from '../../generated/prisma/client';
import type { StackRunStatus } from '../../generated/prisma/enums';

export const RUN_USER_PREFIX = 'run-';

/** The stack a run's credential is for, found with the run (one query per request instead of two). */
export interface BackendStack {
  id: string;
  tenantId: string;
  organizationId: string;
}

export type BackendCaller = { kind: 'run'; runId: string; status: StackRunStatus; stack: BackendStack } | { kind: 'person'; actor: Actor };

/** A new credential for a run: the password goes to its terraform, the hash to the run's row. */
export function mintRunCredential(runId: string): { username: string; password: string; hash: string } {
  const password = randomBytes(32).toString('base64url');
  return { username: `${RUN_USER_PREFIX}${runId}`, password, hash: hashToken(password) };
}

function basicCredentials(header: string | null): { username: string; password: string } | null {
  const match = header === null ? null : /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

const ACTIVE_RUN: readonly StackRunStatus[] = ['planning', 'applying'];

export async function authenticateBackendCaller(prisma: PrismaClient, request: Request, stackId: string, ip: string | null): Promise<BackendCaller> {
  const credentials = basicCredentials(request.headers.get('authorization'));
  if (!credentials) {
    throw new AuthError(
      'unauthenticated',
      'the state backend needs HTTP Basic auth: any user name and an API token with the stacks:apply scope as the password (TF_HTTP_PASSWORD)',
    );
  }
  if (credentials.password.startsWith(TOKEN_PREFIX)) {
    return { kind: 'person', actor: await authenticateToken(prisma, credentials.password, { ip }) };
  }
  const invalid = new AuthError('invalid_token', 'the state backend credential is not valid');
  if (!credentials.username.startsWith(RUN_USER_PREFIX)) throw invalid;
  const runId = credentials.username.slice(RUN_USER_PREFIX.length);
  const run = await prisma.stackRun.findUnique({
    where: { id: runId },
    select: { stackId: true, status: true, backendTokenHash: true, stack: { select: { tenantId: true, tenant: { select: { organizationId: true } } } } },
  });
  const presented = hashToken(credentials.password);
  if (!run || run.backendTokenHash === null || !hashesEqual(presented, run.backendTokenHash) || run.stackId !== stackId) throw invalid;
  if (!ACTIVE_RUN.includes(run.status)) throw new AuthError('invalid_token', `the credential of stack run ${runId} ended with the run (${run.status})`);
  const stack = { id: run.stackId, tenantId: run.stack.tenantId, organizationId: run.stack.tenant.organizationId };
  return { kind: 'run', runId, status: run.status, stack };
}
