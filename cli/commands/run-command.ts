/**
 * What `buildit run` does (cli/commands/run.ts registers the command and loads this module when it
 * runs): runs a pipeline on this machine exactly as a worker would: the same planner, the same
 * orchestrator, the same executors. Only the sink (terminal or NDJSON) and the inputs (git, flags,
 * files) are the CLI's own. Documented in docs/cli-run.md; the event format in docs/events.md.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { EventSink } from '../../lib/events/types';
import {
  formatDiagnostic,
  loadPipeline,
  plan as planPipeline,
  PlanError,
  type ExecutionPlan,
  type PlannedStage,
  type TriggerContext,
} from '../../lib/pipeline';
import { createExecutor } from '../../lib/engine/executors';
import type { Executor } from '../../lib/engine/executors/types';
import {
  DEFAULT_EXECUTOR,
  executorFor,
  runPlan,
  selectStages,
  storageArtifactStore,
  storageOutputFiles,
  UnknownStageError,
  type ApprovalPolicy,
  type RunResult,
} from '../../lib/engine/orchestrator';
import { CacheStore, HostStorage } from '../../lib/engine/workspace';
import { colorEnabled, createPalette } from '../output/color';
import { HumanPrinter, NdjsonSink } from '../output/sinks';
import { UsageError } from '../errors';
import { EXIT_CANCELLED, EXIT_FAILED, EXIT_SUCCEEDED, EXIT_USAGE } from '../exit-codes';
import type { RunCommandOptions } from './run';
import { parsePairs, parseSecretArgs, parseSecretFile, readGit } from './run-inputs';
import { cliCacheDirFromEnv, defaultImageFromEnv } from '../../lib/config/cli';
import { includeOptions } from '../includes';
import { changedFiles } from '../changed-files';

/** The project's offline image; stages that pick `executor "docker"` in a local run use it when they name none. */
const LOCAL_DEFAULT_IMAGE = 'local/busybox:latest';
const ZERO_SHA = '0'.repeat(40);

/** Returns the exit code. Usage and pipeline errors are printed here; nothing is thrown for them. */
export async function runCommand(file: string, options: RunCommandOptions): Promise<number> {
  const stderr = (text: string) => process.stderr.write(`${text}\n`);
  let prepared: PreparedRun;
  try {
    prepared = await prepareRun(file, options, stderr);
  } catch (error) {
    if (error instanceof UsageError || error instanceof PlanError || error instanceof UnknownStageError) {
      stderr(`buildit run: ${error.message}`);
      return EXIT_USAGE;
    }
    throw error;
  }
  return execute(prepared, options, stderr);
}

interface PreparedRun {
  plan: ExecutionPlan;
  runId: string;
  secrets: Record<string, string>;
}

/** Everything that can be wrong with the input, checked before anything runs. */
async function prepareRun(file: string, options: RunCommandOptions, stderr: (text: string) => void): Promise<PreparedRun> {
  const bytes = await readFile(file).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(
      error.code === 'ENOENT' ? `${file} does not exist (pass the pipeline file, default ./buildit.kdl)` : `cannot read ${file}: ${error.message}`,
    );
  });
  const defaultImage = options.defaultImage ?? defaultImageFromEnv() ?? (options.executor === 'local' ? LOCAL_DEFAULT_IMAGE : undefined);
  const { spec, diagnostics } = loadPipeline(bytes, file, { ...includeOptions(file), ...(defaultImage === undefined ? {} : { defaultImage }) });
  for (const diagnostic of diagnostics) stderr(formatDiagnostic(diagnostic));
  if (!spec) throw new UsageError(`${file} is not a valid pipeline (${diagnostics.filter((d) => d.severity === 'error').length} error(s) above)`);

  const changed = changedFiles(spec, file, options);
  if (changed.note !== null) stderr(`buildit run: ${changed.note}`);
  const runId = newRunId();
  const git = readGit(process.cwd());
  const branch = options.branch ?? git.branch;
  // A known branch means this is what a push of it would run on the server; otherwise a manual run.
  const event = options.event ?? (options.tag !== undefined ? 'tag' : branch ? 'push' : 'manual');
  const tag = options.tag ?? (event === 'tag' ? git.tag : undefined);
  const trigger: TriggerContext = {
    event,
    // A pushed tag carries no branch on the server either; only an explicit --branch gives it one.
    ...(event === 'tag' ? (options.branch !== undefined ? { branch: options.branch } : {}) : { branch: branch ?? 'local' }),
    ...(tag !== undefined ? { tag } : {}),
    sha: options.sha ?? git.sha ?? ZERO_SHA,
    ...(git.message ? { message: git.message } : {}),
    ...(git.author ? { author: git.author } : {}),
    variables: parsePairs(options.var, '--var'),
    ...(changed.files !== undefined ? { changedFiles: changed.files } : {}),
    runId,
    runNumber: 1,
  };
  let plan = planPipeline(spec, trigger);
  if (!plan.triggered && !options.event && trigger.event !== 'manual') {
    // A local run is an explicit request: a pipeline that a push of this branch would not run,
    // but that can be started by hand on the server, runs as a manual trigger.
    const manual = planPipeline(spec, { ...trigger, event: 'manual' });
    if (manual.triggered) {
      const pushed = trigger.event === 'tag' ? `tag "${trigger.tag}"` : `"${trigger.branch}"`;
      stderr(`buildit run: a push of ${pushed} would not run "${plan.pipeline}" (${plan.notTriggeredReason}); running it as a manual trigger`);
      plan = manual;
    }
  }
  if (!plan.triggered) {
    const what = trigger.event === 'tag' ? `tag "${trigger.tag}"` : `branch "${trigger.branch}"`;
    const hint = options.event
      ? 'use --event/--branch/--tag to simulate another trigger'
      : `this was a ${trigger.event} of ${what}; pass --event manual (or --event/--branch/--tag) to simulate another trigger`;
    stderr(`buildit run: pipeline "${plan.pipeline}" does not run for this trigger: ${plan.notTriggeredReason} (${hint})`);
  }
  if (options.only?.length) plan = selectOnly(plan, options.only);
  checkApprovalNames(plan, options.approve);

  const secrets: Record<string, string> = {};
  for (const secretFile of options.secretFile) {
    const content = await readFile(secretFile, 'utf8').catch((error: Error) => {
      throw new UsageError(`cannot read secret file ${secretFile}: ${error.message}`);
    });
    Object.assign(secrets, parseSecretFile(content, secretFile));
  }
  Object.assign(secrets, parseSecretArgs(options.secret, process.env));
  return { plan, runId, secrets };
}

async function execute(prepared: PreparedRun, options: RunCommandOptions, stderr: (text: string) => void): Promise<number> {
  const { plan, runId, secrets } = prepared;
  const sink: EventSink = options.json ? new NdjsonSink(process.stdout) : new HumanPrinter(process.stdout, createPalette(colorEnabled(process.stdout)));
  const storage = new HostStorage({
    runsRoot: path.join(tmpdir(), 'buildit-runs'),
    cacheRoot: cliCacheDirFromEnv(),
  });
  await openWorkspace(storage, runId, options.workspace);
  const cancel = new AbortController();
  const defaultExecutor = options.executor ?? DEFAULT_EXECUTOR;
  const executors = createExecutors(plan, defaultExecutor, storage);
  const stopSignals = handleInterrupts(cancel, stderr, () => killRun(executors, runId));
  // Whoever reads our output went away (`buildit run | head`): nobody can see the run, so cancel it.
  const onStdoutError = (error: NodeJS.ErrnoException): void => {
    if (error.code === 'EPIPE') cancel.abort();
  };
  process.stdout.on('error', onStdoutError);
  try {
    const result = await runPlan({
      plan,
      runId,
      executors,
      defaultExecutor,
      sink,
      artifacts: storageArtifactStore(storage, runId),
      cacheStore: new CacheStore(storage.cacheRoot),
      outputFiles: storageOutputFiles(storage, runId),
      secrets,
      approvals: approvalPolicy(plan, options.approve, stderr),
      signal: cancel.signal,
      failFast: options.failFast ?? false,
      labels: { 'buildit.origin': 'cli' },
    });
    return exitCodeOf(result);
  } finally {
    stopSignals();
    process.stdout.off('error', onStdoutError);
    await storage.removeRun(runId).catch(() => {});
  }
}

/**
 * `--only`: the named stages and what they need. An optional need is not needed: it is kept only when
 * selected for itself (or needed by another selected stage), else the stage runs without it.
 */
export function selectOnly(plan: ExecutionPlan, names: string[]): ExecutionPlan {
  const requiredOnly = plan.stages.map((stage) => {
    const optional = new Set(stage.optionalNeeds ?? []);
    return optional.size === 0 ? stage : { ...stage, needs: stage.needs.filter((need) => !optional.has(need)) };
  });
  const selected = selectStages({ ...plan, stages: requiredOnly }, names);
  const kept = new Set(selected.stages.map((stage) => stage.id));
  const stages = plan.stages.filter((stage) => kept.has(stage.id)).map((stage) => withNeedsIn(stage, kept));
  return { ...selected, stages };
}

function withNeedsIn(stage: PlannedStage, kept: Set<string>): PlannedStage {
  if (stage.optionalNeeds === undefined) return stage;
  const optionalNeeds = stage.optionalNeeds.filter((need) => kept.has(need));
  const { optionalNeeds: _, ...rest } = stage;
  return { ...rest, needs: stage.needs.filter((need) => kept.has(need)), ...(optionalNeeds.length > 0 ? { optionalNeeds } : {}) };
}

function exitCodeOf(result: RunResult): number {
  return result.status === 'succeeded' ? EXIT_SUCCEEDED : result.status === 'cancelled' ? EXIT_CANCELLED : EXIT_FAILED;
}

/** Sortable and readable (`local-20261123T180601-3f9a1c`), and a valid directory and label value. */
function newRunId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return `local-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** A copy of the current directory (a run cannot touch the user's files), or `--workspace DIR` in place. */
async function openWorkspace(storage: HostStorage, runId: string, inPlace: string | undefined): Promise<void> {
  // In place: the run directory only holds the artifacts; removing the run never touches DIR.
  if (inPlace) storage.useInPlace(runId, inPlace);
  else await storage.copySource(runId, process.cwd());
}

/** Only the executors the plan's runnable stages use are created (a local run never talks to Docker). */
function createExecutors(plan: ExecutionPlan, defaultExecutor: string, storage: HostStorage): Record<string, Executor> {
  const names = new Set(plan.stages.filter((stage) => stage.kind === 'run').map((stage) => executorFor(stage, defaultExecutor)));
  const executors: Record<string, Executor> = {};
  for (const name of names) if (name === 'local' || name === 'docker') executors[name] = createExecutor(name, storage);
  return executors;
}

function checkApprovalNames(plan: ExecutionPlan, approve: string[]): void {
  for (const name of approve) {
    if (name !== 'all' && !plan.stages.some((stage) => stage.id === name || stage.name === name)) {
      throw new UsageError(`--approve ${name}: no such stage in this run`);
    }
  }
}

/**
 * `--approve all|STAGE` approves without asking; otherwise a person at a terminal is asked
 * (one question at a time, on stderr so `--json` stays clean); with nobody to ask the stage is skipped.
 */
function approvalPolicy(plan: ExecutionPlan, approve: string[], stderr: (text: string) => void): ApprovalPolicy {
  const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true;
  let questions: Promise<unknown> = Promise.resolve();
  return async (stageId) => {
    const stage = plan.stages.find((candidate) => candidate.id === stageId);
    if (approve.includes('all') || approve.includes(stageId) || (stage && approve.includes(stage.name))) {
      return true;
    }
    if (!interactive) return { approved: false, reason: 'approval required: pass --approve all|STAGE' };
    const answer = questions.then(() => ask(`Approve stage ${stageId}? [y/N] `));
    questions = answer.catch(() => {});
    const approved = /^y(es)?$/i.test((await answer).trim());
    if (!approved) stderr(`stage ${stageId} not approved`);
    return approved ? true : { approved: false, reason: 'approval denied' };
  };
}

async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  // In raw mode readline swallows Ctrl-C; pass it on so it still cancels the run.
  rl.on('SIGINT', () => process.emit('SIGINT'));
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

/**
 * First Ctrl-C (or SIGTERM) cancels the run cleanly; a second one kills everything of the run at once
 * (`killRun`) and exits 130. A third one during that exits without waiting any longer.
 */
function handleInterrupts(cancel: AbortController, stderr: (text: string) => void, killNow: () => Promise<void>): () => void {
  let killing = false;
  const onSignal = (): void => {
    if (killing) process.exit(EXIT_CANCELLED);
    if (cancel.signal.aborted) {
      killing = true;
      stderr('buildit run: interrupted again, exiting now (killing the stages of the run)');
      void killNow()
        .catch(() => {})
        .finally(() => process.exit(EXIT_CANCELLED));
      return;
    }
    stderr('buildit run: cancelling (stopping running stages; press Ctrl-C again to exit at once)');
    cancel.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/**
 * Kills every process and container of the run now, with no grace period (each executor's stopAll: local
 * process groups are SIGKILLed at once; containers labelled with the run are force-removed, for at most
 * two seconds).
 */
async function killRun(executors: Record<string, Executor>, runId: string): Promise<void> {
  await Promise.all(Object.values(executors).map((executor) => executor.stopAll(runId).catch(() => {})));
}
