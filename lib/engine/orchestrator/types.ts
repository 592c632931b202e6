/**
 * Inputs and outputs of the orchestrator. The orchestrator knows nothing about terminals or databases:
 * everything it needs comes in through these options, and everything it does goes out as events.
 */
import type { EventSink, RunOutcome, StageOutcome } from '../../events/types';
import type { ExecutionPlan } from '../../pipeline/plan-types';
import type { Executor, ExecutorHandle, StageJob } from '../executors/types';
import type { StageLocks } from './locks';

/** Moves artifacts between stages of one run (see lib/engine/workspace). */
export interface ArtifactStore {
  /** Before a stage starts: puts the artifacts collected from these (succeeded) stages into the workspace. */
  restore(stageIds: string[]): Promise<void>;
  /** After a stage succeeds: keeps the workspace files that match its patterns. */
  collect(stageId: string, patterns: string[]): Promise<void>;
}

/** One cache prepared for one stage: mounted before it runs, saved after it succeeds, always released. */
export interface PreparedCache {
  mounts: StageJob['mounts'];
  /** True when a saved copy was restored (reported in the stage's log). */
  hit?: boolean;
  save(): Promise<void>;
  release(): Promise<void>;
}

/** The part of lib/engine/workspace's `CacheStore` the orchestrator uses. */
export interface CacheProvider {
  prepare(request: { key: string; paths: string[]; executor: string }): Promise<PreparedCache>;
}

/** A stage's output file, prepared for one executor (the path is what `$BUILDIT_OUTPUT` holds there). */
export interface PreparedOutputFile {
  path: string;
  read(): Promise<string>;
}

/** Where stages that declare `outputs` write them (see lib/engine/workspace/outputs.ts). */
export interface OutputFileProvider {
  prepare(request: { stageId: string; executor: string }): Promise<PreparedOutputFile>;
}

/** `false` or `{approved: false, reason}` skips the stage; the reason is shown to the user. */
export type ApprovalDecision = boolean | { approved: boolean; reason?: string };
/** Asked once per `approval` stage when its needs have succeeded; may wait for a person. */
export type ApprovalPolicy = (stageId: string) => Promise<ApprovalDecision>;

/** What a `stack` stage asks for: a run of the stack, waited for to the end (see StackStageRunner). */
export interface StackStageRequest {
  stageId: string;
  /** The stack's slug (interpolated) and `plan`, `apply` or `destroy`. */
  stack: { name: string; action: string };
  /** Aborted when the stage must stop: its reason is a StopRequest (cancel, fail-fast, timeout) unless the worker let go of the run. */
  signal: AbortSignal;
  /** One log line of the stage (the orchestrator numbers and masks it). */
  log(line: string): Promise<void>;
}

export interface StackStageOutcome {
  status: 'succeeded' | 'failed' | 'cancelled';
  reason?: string;
}

/** Runs `stack` stages: only a server has stacks (worker/jobs/run/stacks.ts); without one such a stage fails, saying so. */
export type StackStageRunner = (request: StackStageRequest) => Promise<StackStageOutcome>;

export interface RunPlanOptions {
  plan: ExecutionPlan;
  runId: string;
  /** Executors by name (`local`, `docker`, ...). A stage uses its own `executor` or `defaultExecutor` (see executor-choice.ts). */
  executors: Record<string, Executor>;
  /** Default DEFAULT_EXECUTOR (`docker`). */
  defaultExecutor?: string;
  /** Why an executor is not in `executors` (disabled on this worker, say): a stage that needs it fails with this reason. */
  unavailableExecutors?: Record<string, string>;
  sink: EventSink;
  artifacts?: ArtifactStore;
  cacheStore?: CacheProvider;
  /** Needed by plans with `outputs`; without it such a stage fails with the reason. */
  outputFiles?: OutputFileProvider;
  /** Secret values by name; only the names a stage declares are injected into it, all are masked. */
  secrets?: Record<string, string>;
  /** Stage locks (`lock "NAME"`); default RunLocks: the stages of this run that share a name run one at a time. */
  locks?: StageLocks;
  /** Absent = nobody can approve: approval stages are skipped. */
  approvals?: ApprovalPolicy;
  /** Absent (`buildit run`): `stack` stages fail with the reason. */
  stacks?: StackStageRunner;
  /** Aborting cancels the run: running stages are stopped, pending ones never start. */
  signal?: AbortSignal;
  /** Cancel everything at the first failure instead of letting independent branches go on. */
  failFast?: boolean;
  /** Used when the plan does not set `concurrency`; default os.availableParallelism(). */
  concurrency?: number;
  /** Labels added to every job (the orchestrator always adds buildit.run / buildit.stage / buildit.attempt). */
  labels?: Record<string, string>;
  /** Milliseconds clock, injectable for tests. Default Date.now. */
  now?: () => number;
  /** How long `when status="always"` stages still run after the run stopped. Default 60 s (DEFAULT_ALWAYS_GRACE_MS). */
  alwaysGraceMs?: number;
  /** After asking an executor to cancel, how long to wait before giving up on it. Default 4000 ms (< 5 s promise). */
  cancelDeadlineMs?: number;
  /**
   * Called when an attempt's work exists on its executor, before its logs are read (the worker stores
   * the handle so a restarted worker can find it). Awaited; an error is ignored (the stage goes on).
   */
  onSpawned?: (spawned: SpawnedAttempt) => void | Promise<void>;
  /**
   * Crash recovery: stages taken over from a worker that stopped, by stage id. `finished` stages keep
   * their result (no event is emitted for them again); `running` stages continue their attempt on the
   * found handle instead of spawning one. Stages not listed start from `pending` as usual.
   */
  resume?: Record<string, ResumedStage>;
}

export type ResumedStage = { state: 'finished'; result: StageResult } | ResumedRunningStage;

export interface ResumedRunningStage {
  state: 'running';
  /** The attempt that was running. */
  attempt: number;
  /** Its work found again on the executor, or null when it is gone: the attempt then fails with `lostReason`. */
  handle: ExecutorHandle | null;
  /** Lines of this attempt already stored: the re-attached log skips them. */
  skipLines: number;
  /** Whether a lost attempt may be retried (`retry`); false when its work may still be running unsupervised. */
  retryLost: boolean;
  /** Default `lost: the worker running this stage stopped and its work is gone`. */
  lostReason?: string;
  /** When the stage started (ms, for its duration); default now. */
  startedAt?: number;
}

export interface SpawnedAttempt {
  stageId: string;
  attempt: number;
  handle: ExecutorHandle;
}

export interface StageResult {
  id: string;
  name: string;
  status: StageOutcome;
  /** Why it failed, was skipped or cancelled; absent on success. */
  reason?: string;
  exitCode: number | null;
  /** Attempts started (0 when it never started). */
  attempts: number;
  durationMs: number;
  /** Executor it ran on; null when it never started. */
  executor: string | null;
  allowFailure: boolean;
  /** What a succeeded stage that declares `outputs` wrote to `$BUILDIT_OUTPUT`. */
  outputs?: Record<string, string>;
}

export interface RunResult {
  status: RunOutcome;
  /** Set when the run was stopped as a whole (cancel, fail-fast, pipeline timeout). */
  reason?: string;
  durationMs: number;
  /** In plan order. */
  stages: StageResult[];
}
