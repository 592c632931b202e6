export { runPlan } from './run-plan';
export { DEFAULT_EXECUTOR, executorFor, UNBUILT_EXECUTORS } from './executor-choice';
export { formatDuration } from './duration';
export type {
  ApprovalDecision,
  ApprovalPolicy,
  ArtifactStore,
  CacheProvider,
  PreparedCache,
  RunPlanOptions,
  ResumedRunningStage,
  ResumedStage,
  RunResult,
  SpawnedAttempt,
  StackStageOutcome,
  StackStageRequest,
  StackStageRunner,
  StageResult,
} from './types';
export { RunLocks, type HeldLock, type LockHolder, type LockRequest, type StageLocks } from './locks';
export { selectStages, UnknownStageError } from './select';
export { storageArtifactStore, storageOutputFiles } from './workspace-stores';
