/** The orchestrator's ArtifactStore over the host storage (the orchestrator only sees the interface). */
import { collectArtifacts, restoreArtifacts } from '../workspace/artifacts';
import type { HostStorage } from '../workspace/storage';
import type { ArtifactStore } from './types';

export function storageArtifactStore(storage: HostStorage, runId: string): ArtifactStore {
  const dirs = () => ({ workspace: storage.workspaceDir(runId), artifactsDir: storage.artifactsDir(runId) });
  return {
    async restore(stageIds) {
      await restoreArtifacts({ ...dirs(), stageIds });
    },
    async collect(stageId, patterns) {
      await collectArtifacts({ ...dirs(), stageId, patterns });
    },
  };
}
