/**
 * All stages of a run share one workspace (the local executor's cwd, /workspace in containers).
 * Restoring a need's artifacts for every dependent would rewrite files that a concurrent dependent
 * may be reading at that moment (two matrix combinations both `cat dist/app.txt` while the other's
 * restore truncates and rewrites it). So each stage's artifacts are restored into the workspace
 * ONCE, before its first dependent starts; later dependents wait for that same restore.
 */
import type { ArtifactStore } from './types';

export function restoreEachOnce(store: ArtifactStore): ArtifactStore {
  const restored = new Map<string, Promise<void>>();
  const restoreOne = (stageId: string): Promise<void> => {
    let restoring = restored.get(stageId);
    if (!restoring) {
      restoring = store.restore([stageId]);
      restored.set(stageId, restoring);
    }
    return restoring;
  };
  return {
    collect: (stageId, patterns) => store.collect(stageId, patterns),
    // In the order given, one after the other: where two needs have the same file, the later wins.
    async restore(stageIds) {
      for (const stageId of stageIds) await restoreOne(stageId);
    },
  };
}
