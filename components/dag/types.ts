import type { StageStatus } from './status';

/**
 * A stage as the graph draws it: from a plan (the editor's live preview: no status) or from a run (a
 * StageRun: `id` is its planned stage id, `test[node=18]` for a matrix combination, and it has a status).
 */
export interface DagStage {
  /** Planned stage id; `needs` name these. */
  id: string;
  /** The `stage "name"` it comes from: matrix combinations share it and are drawn as one group. */
  name: string;
  needs: readonly string[];
  /** Absent: a planned stage, drawn neutral. */
  status?: StageStatus;
}
