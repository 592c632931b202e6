/**
 * Re-runs that reuse stages (lib/api/services/runs.ts rerunRun): the stages created `succeeded` and never
 * started are not executed; their artifacts come from the run they were reused from.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { stageArtifactDirName } from '../../../lib/engine/workspace/artifacts';
import { copyDirContents } from '../../../lib/engine/workspace/copy';
import type { HostStorage } from '../../../lib/engine/workspace/storage';
import type { PrismaClient, StageRun } from '../../../lib/generated/prisma/client';
import type { ExecutionPlan } from '../../../lib/pipeline/plan-types';
import { unreuseStages } from '../../../lib/runs/transitions';

/** A stage of a re-run created `succeeded` by the API (lib/runs/create-run.ts `reuse`): never started in this run. */
function isReusedRow(row: Pick<StageRun, 'status' | 'startedAt'>): boolean {
  return row.status === 'succeeded' && row.startedAt === null;
}

/** How far back a reused stage's artifacts are looked for (a re-run of a re-run of ...). */
const MAX_REUSE_HOPS = 50;

/**
 * A re-run's reused stages (created `succeeded`, never started), at claim time and again on recovery
 * (idempotent):
 * - The artifacts of every reused stage that declares some are copied from the artifact store of the run
 *   it was reused from (`WORKSPACES/OLD_RUN_ID/artifacts/STAGE`; when that run had itself reused the stage,
 *   from the run before, and so on) into this run's store, unless already there. The orchestrator then
 *   restores them for dependents as for stages that ran.
 * - When they are gone (cleaned up, or the old run ran on another host without shared storage) and a
 *   stage that will run needs that stage, the stage is run again instead of being reused: its row goes
 *   back to `pending` (reason says why, cleared when it starts). The check repeats for the needs of the
 *   stages put back, so no stage starts without the artifacts of its needs. A reused stage whose artifacts
 *   are gone but that no running stage needs stays reused (its artifacts are just not downloadable).
 * Only DIRECT needs matter: the orchestrator restores the artifacts of a stage's needs, not of theirs.
 */
export async function prepareReusedStages(options: {
  prisma: PrismaClient;
  run: { id: string; rerunOfId: string; stages: StageRun[] };
  plan: ExecutionPlan;
  storage: HostStorage;
}): Promise<{ stages: StageRun[]; reused: Set<string>; runAgain: string[] }> {
  const { prisma, run } = options;
  const planned = new Map(options.plan.stages.map((stage) => [stage.id, stage]));
  const reused = new Set(run.stages.filter(isReusedRow).map((row) => row.stageId));
  if (reused.size === 0) return { stages: run.stages, reused, runAgain: [] };

  const missing = new Set<string>();
  for (const stageId of reused) {
    const stage = planned.get(stageId);
    if (!stage || stage.artifacts.length === 0) continue;
    const target = path.join(options.storage.artifactsDir(run.id), stageArtifactDirName(stageId));
    if (await isDirectory(target)) continue; // copied before this worker took the run over
    const source = await findReusedArtifacts(prisma, options.storage, run.rerunOfId, stageId);
    if (source === null) {
      missing.add(stageId);
      continue;
    }
    // Into a temporary directory renamed into place, as collectArtifacts does: never half a set.
    const temp = `${target}.tmp-${randomBytes(4).toString('hex')}`;
    try {
      await mkdir(temp, { recursive: true });
      await copyDirContents(source, temp);
      await rename(temp, target);
    } catch {
      await rm(temp, { recursive: true, force: true }).catch(() => {});
      missing.add(stageId);
    }
  }

  // Stages that will start: not finished, not running (a recovered running stage restored its needs already).
  const rows = new Map(run.stages.map((row) => [row.stageId, row]));
  const toStart = run.stages
    .filter((row) => row.status === 'pending' || row.status === 'queued' || row.status === 'waiting_approval')
    .map((row) => row.stageId);
  const runAgain: string[] = [];
  for (let i = 0; i < toStart.length; i++) {
    for (const need of planned.get(toStart[i]!)?.needs ?? []) {
      if (!reused.has(need) || !missing.has(need)) continue;
      reused.delete(need);
      runAgain.push(need);
      toStart.push(need);
    }
  }
  if (runAgain.length === 0) return { stages: run.stages, reused, runAgain };

  const againIds = runAgain.map((stageId) => rows.get(stageId)!.id);
  await unreuseStages(prisma, againIds, 'runs again: the artifacts of the run it would be reused from are not available to this worker');
  const stages = await prisma.stageRun.findMany({ where: { runId: run.id } });
  return { stages, reused, runAgain };
}

/** The artifact directory of `stageId` in the run it was reused from, following re-runs of re-runs; null when gone. */
async function findReusedArtifacts(prisma: PrismaClient, storage: HostStorage, fromRunId: string, stageId: string): Promise<string | null> {
  let runId: string | null = fromRunId;
  for (let hop = 0; runId !== null && hop < MAX_REUSE_HOPS; hop++) {
    const candidate = path.join(storage.artifactsDir(runId), stageArtifactDirName(stageId));
    if (await isDirectory(candidate)) return candidate;
    // Not there: if that run had reused the stage too, its artifacts came from the run before.
    const row: { status: StageRun['status']; startedAt: Date | null; run: { rerunOfId: string | null } } | null = await prisma.stageRun.findFirst({
      where: { runId, stageId },
      select: { status: true, startedAt: true, run: { select: { rerunOfId: true } } },
    });
    runId = row && isReusedRow(row) ? row.run.rerunOfId : null;
  }
  return null;
}

async function isDirectory(dir: string): Promise<boolean> {
  return (await stat(dir).catch(() => null))?.isDirectory() ?? false;
}
