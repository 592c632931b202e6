/**
 * The checkout of a run (its `@checkout` stage run, shown as `checkout`; see lib/runs/create-run.ts and
 * docs/source.md): before the first stage, the worker clones the pipeline's repository at the run's commit
 * into the run's workspace on this host (HostStorage.workspaceDir: the local executor's cwd, /workspace in
 * containers), with the system git, from the local mirror (lib/source/mirror.ts).
 *
 * Its progress goes through the run's StoreSink as the events of a stage (`stage.started`, `stage.log`,
 * `stage.finished` with stage `@checkout`, executor `git`), so it is stored as log chunks and published like
 * any stage's; every line is masked with the run's secrets and the clone credentials. A failed clone fails
 * the checkout with git's message and a hint, every stage of the plan is skipped (`the checkout failed`),
 * and the run ends `failed` (`cancelled` when it was cancelled meanwhile).
 */
import { rm } from 'node:fs/promises';
import type { RunResult } from '../../../lib/engine/orchestrator';
import type { HostStorage } from '../../../lib/engine/workspace';
import type { LogStream } from '../../../lib/events/types';
import type { PrismaClient } from '../../../lib/generated/prisma/client';
import type { ExecutionPlan } from '../../../lib/pipeline';
import { CHECKOUT_STAGE_ID } from '../../../lib/runs/create-run';
import type { StoreSink } from '../../../lib/runs/store-sink';
import { createMasker } from '../../../lib/secrets/mask';
import { displayUrl, GitError, NO_CREDENTIALS, resolveRemoteRef, type GitCredentials } from '../../../lib/source/git';
import { checkoutFromMirror, MirrorStore } from '../../../lib/source/mirror';
import { pipelineCredentials } from '../../../lib/source/trigger';

export interface CheckoutInput {
  prisma: PrismaClient;
  sink: StoreSink;
  runId: string;
  plan: ExecutionPlan;
  /** Plan stages already finished (reused by a re-run): left alone when the checkout fails. */
  finishedStages: ReadonlySet<string>;
  storage: HostStorage;
  dataDir: string;
  pipeline: { tenantId: string; repository: string; cloneDepth: number; submodules: boolean; credentialsSecret: string | null };
  run: { commitSha: string | null; commitMessage: string | null; commitAuthor: string | null; branch: string | null; tag: string | null };
  /** The run's secret values: masked in git's output too. */
  secrets: Record<string, string>;
  signal: AbortSignal;
}

export type CheckoutOutcome = { kind: 'checked_out'; sha: string } | { kind: 'failed'; result: RunResult };

const now = () => new Date().toISOString();

export async function runCheckout(input: CheckoutInput): Promise<CheckoutOutcome> {
  const { sink, runId, pipeline } = input;
  const startedAt = Date.now();
  await input.prisma.pipelineRun.updateMany({ where: { id: runId, startedAt: null }, data: { startedAt: new Date(startedAt) } });
  await sink.emit({ type: 'stage.started', time: now(), runId, stage: CHECKOUT_STAGE_ID, attempt: 1, executor: 'git' });

  let credentials: GitCredentials = NO_CREDENTIALS;
  let mask = createMasker(Object.values(input.secrets));
  let seq = 0;
  const emits: Array<Promise<void>> = [];
  const log = (stream: LogStream, line: string) => {
    const emitted = sink.emit({ type: 'stage.log', time: now(), runId, stage: CHECKOUT_STAGE_ID, stream, line: mask(line), seq: ++seq });
    if (emitted) emits.push(emitted);
  };
  try {
    credentials = await pipelineCredentials(input.prisma, pipeline, input.dataDir);
    mask = createMasker([...Object.values(input.secrets), ...credentials.secretValues]);
    if (credentials !== NO_CREDENTIALS) log('system', `credentials: tenant secret ${pipeline.credentialsSecret}`);
    let sha = input.run.commitSha;
    if (sha === null) {
      // A run created without a commit (not through the API's trigger): resolve its branch now, once.
      const ref = input.run.tag !== null ? `refs/tags/${input.run.tag}` : input.run.branch !== null ? `refs/heads/${input.run.branch}` : 'HEAD';
      log('system', `$ git ls-remote ${displayUrl(pipeline.repository)} ${ref}`);
      sha = await resolveRemoteRef(pipeline.repository, ref, credentials, input.signal);
      await input.prisma.pipelineRun.update({ where: { id: runId }, data: { commitSha: sha } });
    }
    const mirrors = MirrorStore.inDataDir(input.dataDir);
    const onLine = (stream: LogStream, line: string) => log(stream, line);
    const mirror = await mirrors.ensureCommit(pipeline.repository, sha, { credentials, onLine, signal: input.signal });
    const workspace = input.storage.workspaceDir(runId);
    // A checkout that a dead worker left half done starts over.
    await rm(workspace, { recursive: true, force: true, maxRetries: 3 });
    await input.storage.prepareRun(runId);
    const commit = await checkoutFromMirror({
      workspace,
      url: pipeline.repository,
      mirrorDir: mirror.dir,
      sha: mirror.sha,
      depth: pipeline.cloneDepth,
      submodules: pipeline.submodules,
      credentials,
      onLine,
      signal: input.signal,
    });
    log('system', `checked out ${mirror.sha}: ${commit.message} (${commit.author})`);
    const data = {
      ...(input.run.commitMessage === null ? { commitMessage: commit.message } : {}),
      ...(input.run.commitAuthor === null ? { commitAuthor: commit.author } : {}),
      ...(input.run.commitSha !== mirror.sha ? { commitSha: mirror.sha } : {}),
    };
    if (Object.keys(data).length > 0) await input.prisma.pipelineRun.update({ where: { id: runId }, data });
    await Promise.all(emits);
    await sink.emit({
      type: 'stage.finished',
      time: now(),
      runId,
      stage: CHECKOUT_STAGE_ID,
      status: 'succeeded',
      exitCode: 0,
      attempt: 1,
      durationMs: Date.now() - startedAt,
    });
    return { kind: 'checked_out', sha: mirror.sha };
  } catch (error) {
    const cancelled = input.signal.aborted;
    const message = cancelled ? 'the run was cancelled during the checkout' : error instanceof Error ? error.message : String(error);
    const hint = !cancelled && error instanceof GitError ? error.hint : null;
    log('system', `error: ${message}`);
    if (hint) log('system', `hint: ${hint}`);
    await Promise.allSettled(emits);
    const reason = mask(`checkout failed: ${message}${hint ? ` (${hint})` : ''}`);
    const status = cancelled ? 'cancelled' : 'failed';
    await sink.emit({
      type: 'stage.finished',
      time: now(),
      runId,
      stage: CHECKOUT_STAGE_ID,
      status,
      exitCode: null,
      attempt: 1,
      durationMs: Date.now() - startedAt,
      reason,
    });
    await sink.emit({ type: 'run.started', time: now(), runId, pipeline: input.plan.pipeline, stages: [] });
    for (const stage of input.plan.stages) {
      if (input.finishedStages.has(stage.id)) continue;
      const skipReason = stage.skip?.reason ?? (cancelled ? 'run cancelled during the checkout' : 'the checkout failed');
      await sink.emit({
        type: 'stage.finished',
        time: now(),
        runId,
        stage: stage.id,
        status: cancelled && !stage.skip ? 'cancelled' : 'skipped',
        exitCode: null,
        attempt: 0,
        durationMs: 0,
        reason: skipReason,
      });
    }
    const durationMs = Date.now() - startedAt;
    await sink.emit({ type: 'run.finished', time: now(), runId, status, durationMs });
    return { kind: 'failed', result: { status, reason, durationMs, stages: [] } };
  } finally {
    await credentials.cleanup();
  }
}
