/** Database rows → the JSON shapes documented in lib/api/schemas (dates become ISO strings via JSON). */
import { invitationTenantRoles } from '../auth/invitations';
import type { Invitation, LogChunk, Organization, Pipeline, PipelineRun, StageRun, Tenant, User } from '../generated/prisma/client';
import { chunkLines } from '../runs/log-lines';
import type { z } from 'zod';
import type { RunWaitingFor, StageWaitingFor } from './schemas';

export function organizationDto(o: Organization) {
  return { id: o.id, slug: o.slug, name: o.name, allowedEmailDomains: o.allowedEmailDomains, createdAt: o.createdAt, updatedAt: o.updatedAt };
}

/** An organization or tenant membership with its user. */
export function memberDto<R extends string>(m: { role: R; createdAt: Date; user: Pick<User, 'id' | 'email' | 'name'> }) {
  return { userId: m.user.id, email: m.user.email, name: m.user.name, role: m.role, createdAt: m.createdAt };
}

export function invitationDto(i: Invitation, now: Date = new Date()) {
  const status = i.acceptedAt ? 'accepted' : i.revokedAt ? 'revoked' : i.expiresAt <= now ? 'expired' : 'pending';
  return {
    id: i.id,
    organizationId: i.organizationId,
    email: i.email,
    role: i.role,
    tenantRoles: invitationTenantRoles(i.tenantRoles),
    status,
    expiresAt: i.expiresAt,
    acceptedAt: i.acceptedAt,
    acceptedById: i.acceptedById,
    revokedAt: i.revokedAt,
    createdById: i.createdById,
    createdAt: i.createdAt,
  };
}

export function tenantDto(t: Tenant) {
  return { id: t.id, organizationId: t.organizationId, slug: t.slug, name: t.name, createdAt: t.createdAt, updatedAt: t.updatedAt };
}

export function pipelineSummaryDto(p: Pipeline) {
  return {
    id: p.id,
    tenantId: p.tenantId,
    name: p.name,
    slug: p.slug,
    repository: p.repository,
    defaultBranch: p.defaultBranch,
    configPath: p.configPath,
    cloneDepth: p.cloneDepth,
    submodules: p.submodules,
    credentialsSecret: p.credentialsSecret,
    nextRunNumber: p.nextRunNumber,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

export function pipelineDto(p: Pipeline) {
  return { ...pipelineSummaryDto(p), config: p.config };
}

export function stageRunDto(s: StageRun) {
  return {
    id: s.id,
    stageId: s.stageId,
    name: s.name,
    matrix: (s.matrix ?? null) as Record<string, string> | null,
    needs: s.needs,
    status: s.status,
    attempt: s.attempt,
    exitCode: s.exitCode,
    executor: s.executor,
    reason: s.reason,
    outputs: (s.outputs ?? null) as Record<string, string> | null,
    stackRunId: s.stackRunId,
    waitingFor: (s.status === 'queued' ? (s.waitingFor ?? null) : null) as z.output<typeof StageWaitingFor>,
    createdAt: s.createdAt,
    startedAt: s.startedAt,
    finishedAt: s.finishedAt,
  };
}

export function runSummaryDto(r: PipelineRun) {
  return {
    id: r.id,
    pipelineId: r.pipelineId,
    number: r.number,
    status: r.status,
    event: r.event,
    branch: r.branch,
    tag: r.tag,
    commitSha: r.commitSha,
    commitMessage: r.commitMessage,
    commitAuthor: r.commitAuthor,
    variables: (r.variables ?? {}) as Record<string, string>,
    triggeredById: r.triggeredById,
    triggeredBy: r.triggeredBy,
    deliveryId: r.deliveryId,
    pullRequest: r.pullRequest === null ? null : { number: r.pullRequest, sourceBranch: r.sourceBranch ?? '', targetBranch: r.targetBranch ?? '' },
    rerunOfId: r.rerunOfId,
    cancelRequestedAt: r.cancelRequestedAt,
    waitingFor: (r.status === 'queued' ? (r.waitingFor ?? null) : null) as z.output<typeof RunWaitingFor>,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
  };
}

/** A run with its stages in plan order (level, declaration, matrix), not insertion order. */
/** `actor`: the person who started the run (its `triggeredById`), when one did and still exists. */
export function runDto(r: PipelineRun, stages: StageRun[], actor: Pick<User, 'name' | 'email'> | null) {
  const planned = (r.plan as { stages?: Array<{ id?: unknown }> } | null)?.stages ?? [];
  const order = new Map<string, number>();
  planned.forEach((stage, index) => {
    if (typeof stage.id === 'string') order.set(stage.id, index);
  });
  const sorted = [...stages].sort(
    (a, b) => (order.get(a.stageId) ?? Number.MAX_SAFE_INTEGER) - (order.get(b.stageId) ?? Number.MAX_SAFE_INTEGER) || (a.stageId < b.stageId ? -1 : 1),
  );
  return { ...runSummaryDto(r), actor: actor && { name: actor.name, email: actor.email }, stages: sorted.map(stageRunDto) };
}

export function logChunkDto(c: Pick<LogChunk, 'seq' | 'text' | 'firstLine' | 'streams' | 'createdAt'>) {
  return { seq: c.seq, text: c.text, firstLine: c.firstLine, lines: chunkLines(c), createdAt: c.createdAt };
}
