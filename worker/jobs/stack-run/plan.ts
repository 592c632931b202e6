/**
 * The plan phase of a stack run: queued → planning → planned | no_changes | errored | cancelled.
 * `terraform init`, then `plan -out` with `-json` (the log) and `-detailed-exitcode` (0: nothing to do,
 * 2: changes), then `show -json` of the saved plan: stored encrypted with the plan file, and turned into
 * the masked plan view and change summary the API shows. A drift check marks the stack drifted when its
 * plan finds changes. An apply run of an auto-apply stack is approved at once; the caller applies it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { recordAudit } from '../../../lib/auth/audit';
import { Prisma } from '../../../lib/generated/prisma/client';
import type { Logger } from '../../../lib/log';
import { planView, summaryLine } from '../../../lib/stacks/plan-view';
import { APPLYING_KINDS, enqueueStackRunJob, transitionStackRun } from '../../../lib/stacks/runs';
import { planFileAddress, planJsonAddress, seal, sealedPlanColumns } from '../../../lib/stacks/sealed';
import { mintRunCredential } from '../../../lib/stacks/state/credentials';
import { releaseRunLocks } from '../../../lib/stacks/state/locks';
import { latestVersionNumber } from '../../../lib/stacks/state/versions';
import { endCancelled, endErrored, requireSuccess } from './finish';
import { openSession, type Session, type StackRunDeps } from './session';

/** How long a run waits before it looks again whether its stack's other run has finished. */
export const BUSY_RETRY_MS = 2_000;

const PLAN_FILE = 'buildit.tfplan';

export type PlanOutcome = 'apply' | 'done';

export async function planPhase(deps: StackRunDeps, runId: string, jobSignal: AbortSignal, log: Logger): Promise<PlanOutcome> {
  const { prisma } = deps;
  const run = await prisma.stackRun.findUnique({ where: { id: runId }, include: { stack: { include: { tenant: { select: { organizationId: true } } } } } });
  if (!run) return 'done';
  // An attempt that died while planning left nothing but maybe its lock: plan again.
  if (run.status === 'planning') await releaseRunLocks(prisma, runId);
  else if (run.status !== 'queued') return 'done';

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
  try {
    session = await openSession(deps, run, 'plan', credential, jobSignal);
    const current = session;
    const destroy = run.kind === 'destroy' ? ['-destroy'] : [];
    const planArgs = ['plan', '-input=false', '-json', '-detailed-exitcode', `-out=${PLAN_FILE}`, ...destroy];
    const { plan, planStateVersion, reusedInit } = await initAndPlan(current, prisma, run.stackId, planArgs);
    requireSuccess(current, plan, 'terraform plan', [0, 2]);
    // The plan file is read and sealed while terraform renders it as JSON.
    const [shown, file] = await current.timed('show', () =>
      Promise.all([
        current.capture(['show', '-json', '-no-color', PLAN_FILE]),
        readFile(path.join(current.workdir, PLAN_FILE)).then((bytes) => seal(planFileAddress(run.stack.tenantId, runId), bytes.toString('base64'))),
      ]),
    );
    requireSuccess(current, shown.exit, 'terraform show of the plan');
    const storeStart = performance.now();
    const view = planView(JSON.parse(shown.stdout) as unknown);
    const json = seal(planJsonAddress(run.stack.tenantId, runId), shown.stdout);
    const changed = plan.code === 2;
    const { summary } = view;
    current.log.line(summaryLine(summary, changed));
    await current.log.flush();

    const autoApply = changed && APPLYING_KINDS.includes(run.kind) && run.stack.autoApply;
    const store = async (db: Prisma.TransactionClient | typeof prisma) => {
      await transitionStackRun(db, runId, ['planning'], changed ? 'planned' : 'no_changes', {
        backendTokenHash: null,
        commitSha: current.commitSha,
        changeSummary: { ...summary },
        planView: view as unknown as Prisma.InputJsonValue,
        ...sealedPlanColumns(json, file),
        planStateVersion,
      });
      if (run.kind === 'drift') await recordDriftCheck(db, run, changed, summary);
      if (autoApply) await transitionStackRun(db, runId, ['planned'], 'approved', { approvedAt: new Date() });
    };
    // A single statement needs no interactive transaction (its BEGIN and COMMIT are two more round trips).
    if (run.kind === 'drift' || autoApply) await prisma.$transaction(store);
    else await store(prisma);
    current.timings.store = Math.round(performance.now() - storeStart);
    log.info({ timings: current.timings, reusedInit }, 'stack run planned');
    return autoApply ? 'apply' : 'done';
  } catch (error) {
    if (session?.cancelRequested()) await endCancelled(prisma, runId, 'planning', session);
    else await endErrored(prisma, runId, 'planning', error, session);
    return 'done';
  } finally {
    await session?.close();
  }
}

/** init (from the stack's last one when kept), then plan; a reused init that no longer fits is made anew and the plan repeated. */
async function initAndPlan(session: Session, prisma: StackRunDeps['prisma'], stackId: string, args: string[]) {
  const reusedInit = await session.timed('init', () => session.init({ reuse: true }));
  const attempt = async () => {
    // Read before terraform reads the state: an apply after this makes the plan stale (apply.ts).
    const planStateVersion = await latestVersionNumber(prisma, stackId);
    return { planStateVersion, plan: await session.timed('plan', () => session.terraform(args)) };
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
