/**
 * The plan phase of a stack run: queued → planning → planned | no_changes | errored | cancelled.
 * `terraform init`, then `plan -out` with `-json` (the log) and `-detailed-exitcode` (0: nothing to do,
 * 2: changes). The run is `planned` (or `no_changes`) as soon as terraform has written the plan, with the
 * summary and changed resources its stream listed (lib/stacks/plan-stream.ts). Then `show -json` of the
 * saved plan (a second terraform process, ~130 ms of it start-up): stored encrypted with the plan file,
 * and turned into the masked attribute-level view the API shows; approvals wait for it. A drift check
 * marks the stack drifted when its plan finds changes. An apply run of an auto-apply stack is approved
 * once its plan is stored; the caller applies it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { recordAudit } from '../../../lib/auth/audit';
import { Prisma } from '../../../lib/generated/prisma/client';
import type { StackRunStatus } from '../../../lib/generated/prisma/enums';
import type { Logger } from '../../../lib/log';
import { PlanStream } from '../../../lib/stacks/plan-stream';
import { planView, summaryLine, type PlanView } from '../../../lib/stacks/plan-view';
import { APPLYING_KINDS, enqueueStackRunJob, transitionStackRun } from '../../../lib/stacks/runs';
import { planFileAddress, planJsonAddress, seal, sealedPlanColumns } from '../../../lib/stacks/sealed';
import { mintRunCredential } from '../../../lib/stacks/state/credentials';
import { releaseRunLocks } from '../../../lib/stacks/state/locks';
import { latestVersionNumber } from '../../../lib/stacks/state/versions';
import { announceStackRun } from './announce';
import { endCancelled, endErrored, requireSuccess } from './finish';
import { openSession, type Session, type StackRunDeps } from './session';

/** How long a run waits before it looks again whether its stack's other run has finished. */
export const BUSY_RETRY_MS = 2_000;

const PLAN_FILE = 'buildit.tfplan';

/** Where a run is once terraform has listed its changes. */
const LISTED_STATUSES: readonly StackRunStatus[] = ['planned', 'no_changes'];

export type PlanOutcome = 'apply' | 'done';

export async function planPhase(deps: StackRunDeps, runId: string, jobSignal: AbortSignal, log: Logger): Promise<PlanOutcome> {
  const { prisma } = deps;
  const run = await loadRun(prisma, runId);
  if (!run) return 'done';
  // An attempt that died while planning left nothing but maybe its lock: plan again.
  if (run.status === 'planning') await releaseRunLocks(prisma, runId);
  else if (LISTED_STATUSES.includes(run.status) && run.planKeyId === null) {
    // One that died after listing the changes, before it stored the plan file, left nothing to apply.
    await transitionStackRun(prisma, runId, [run.status], 'errored', {
      reason: 'the worker stopped before it stored the plan (its file and attribute-level changes): queue a new plan',
    });
    return 'done';
  } else if (run.status !== 'queued') return 'done';

  const credential = mintRunCredential(runId);
  try {
    const started = await transitionStackRun(prisma, runId, ['queued', 'planning'], 'planning', {
      startedAt: run.startedAt ?? new Date(),
      backendTokenHash: credential.hash,
    });
    if (!started) return 'done';
  } catch (error) {
    // Another run of the stack is planning or applying (the one-active-run index): wait for it.
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      log.info({ runId, stackId: run.stackId }, 'another run of the stack is active; waiting');
      await enqueueStackRunJob(prisma, runId, 'plan', new Date(Date.now() + BUSY_RETRY_MS));
      return 'done';
    }
    throw error;
  }

  let session: Session | null = null;
  // Where the run stands, for ending it when something fails: `planning`, then `planned` or `no_changes`.
  let status: StackRunStatus = 'planning';
  try {
    session = await openSession(deps, run, 'plan', credential, jobSignal);
    const current = session;
    const destroy = run.kind === 'destroy' ? ['-destroy'] : [];
    const planArgs = ['plan', '-input=false', '-json', '-detailed-exitcode', `-out=${PLAN_FILE}`, ...destroy];
    const { plan, stream, planStateVersion, reusedInit } = await initAndPlan(current, prisma, run.stackId, planArgs);
    requireSuccess(current, plan, 'terraform plan', [0, 2]);
    const changed = plan.code === 2;

    // Planned: the summary and the changed resources, as terraform's own stream listed them.
    const listed = stream.view();
    current.log.line(summaryLine(listed.summary, changed));
    await current.log.flush();
    const listedStatus = changed ? 'planned' : 'no_changes';
    status = listedStatus;
    await current.timed('mark', () => markListed(prisma, run, listedStatus, listed, { changed, commitSha: current.commitSha, planStateVersion }));
    await announceStackRun(deps, runId, log);
    log.info({ timings: { ...current.timings }, reusedInit }, 'stack run planned');

    const autoApply = changed && APPLYING_KINDS.includes(run.kind) && run.stack.autoApply;
    const approved = await storePlan(prisma, current, run, listedStatus, autoApply);
    log.info({ timings: current.timings }, 'stack run plan stored');
    return approved ? 'apply' : 'done';
  } catch (error) {
    if (session?.cancelRequested()) await endCancelled(prisma, runId, status, session);
    else await endErrored(prisma, runId, status, error, session);
    return 'done';
  } finally {
    await session?.close();
  }
}

type PlannedRun = NonNullable<Awaited<ReturnType<typeof loadRun>>>;

const loadRun = (prisma: StackRunDeps['prisma'], runId: string) =>
  prisma.stackRun.findUnique({ where: { id: runId }, include: { stack: { include: { tenant: { select: { organizationId: true } } } } } });

/** planning → `status` with what terraform's stream listed (and a drift check's verdict, in the same transaction). */
async function markListed(
  prisma: StackRunDeps['prisma'],
  run: PlannedRun,
  status: StackRunStatus,
  listed: PlanView,
  plan: { changed: boolean; commitSha: string | null; planStateVersion: number },
): Promise<void> {
  const mark = async (db: Prisma.TransactionClient | typeof prisma) => {
    await transitionStackRun(db, run.id, ['planning'], status, {
      backendTokenHash: null,
      commitSha: plan.commitSha,
      changeSummary: { ...listed.summary },
      planView: listed as unknown as Prisma.InputJsonValue,
      planStateVersion: plan.planStateVersion,
    });
    if (run.kind === 'drift') await recordDriftCheck(db, run, plan.changed, listed.summary);
  };
  // A single statement needs no interactive transaction (its BEGIN and COMMIT are two more round trips).
  if (run.kind === 'drift') await prisma.$transaction(mark);
  else await mark(prisma);
}

/**
 * `show -json` of the saved plan, then its attribute-level view and the plan file and JSON, sealed, stored
 * together (an approval waits for them); an auto-apply run is approved in the same transaction. Returns
 * whether it was. A run discarded or cancelled meanwhile keeps what it has: nobody will apply it.
 */
async function storePlan(prisma: StackRunDeps['prisma'], session: Session, run: PlannedRun, status: StackRunStatus, autoApply: boolean): Promise<boolean> {
  const tenantId = run.stack.tenantId;
  // The plan file is read and sealed while terraform renders it as JSON.
  const [shown, file] = await session.timed('show', () =>
    Promise.all([
      session.capture(['show', '-json', '-no-color', PLAN_FILE]),
      readFile(path.join(session.workdir, PLAN_FILE)).then((bytes) => seal(planFileAddress(tenantId, run.id), bytes.toString('base64'))),
    ]),
  );
  requireSuccess(session, shown.exit, 'terraform show of the plan');
  const storeStart = performance.now();
  const view = planView(JSON.parse(shown.stdout) as unknown);
  const json = seal(planJsonAddress(tenantId, run.id), shown.stdout);
  const store = async (db: Prisma.TransactionClient | typeof prisma) => {
    const { count } = await db.stackRun.updateMany({
      where: { id: run.id, status },
      data: { changeSummary: { ...view.summary }, planView: view as unknown as Prisma.InputJsonValue, ...sealedPlanColumns(json, file) },
    });
    return count === 1 && autoApply && (await transitionStackRun(db, run.id, ['planned'], 'approved', { approvedAt: new Date() }));
  };
  const approved = autoApply ? await prisma.$transaction(store) : await store(prisma);
  session.timings.store = Math.round(performance.now() - storeStart);
  return approved;
}

/** init (from the stack's last one when kept), then plan; a reused init that no longer fits is made anew and the plan repeated. */
async function initAndPlan(session: Session, prisma: StackRunDeps['prisma'], stackId: string, args: string[]) {
  const reusedInit = await session.timed('init', () => session.init({ reuse: true }));
  const attempt = async () => {
    // Read before terraform reads the state: an apply after this makes the plan stale (apply.ts).
    const planStateVersion = await latestVersionNumber(prisma, stackId);
    const stream = new PlanStream();
    return { planStateVersion, stream, plan: await session.timed('plan', () => session.terraform(args, stream.take)) };
  };
  const first = await attempt();
  if (!reusedInit || first.plan.code !== 1 || !first.plan.asksForInit || session.cancelRequested()) return { ...first, reusedInit };
  session.log.line('the reused init does not fit this configuration (terraform asks for init): running terraform init, then planning again');
  await session.timed('init', () => session.init({ reuse: false }));
  return { ...(await attempt()), reusedInit: false };
}

async function recordDriftCheck(
  tx: Prisma.TransactionClient,
  run: { id: string; stackId: string; stack: { tenantId: string; drifted: boolean; tenant: { organizationId: string } } },
  drifted: boolean,
  summary: object,
): Promise<void> {
  await tx.stack.update({ where: { id: run.stackId }, data: { drifted, driftCheckedAt: new Date() } });
  if (!drifted) return;
  await recordAudit(tx, null, {
    action: 'stack.drift_detected',
    organizationId: run.stack.tenant.organizationId,
    tenantId: run.stack.tenantId,
    targetType: 'stack',
    targetId: run.stackId,
    details: { runId: run.id, ...summary },
    origin: null,
  });
}
